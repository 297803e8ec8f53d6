"""A store that is down: temporarily_unavailable at the client once it is verified, else a page."""

import socket

import pytest

from tests.integration.authorize.conftest import CALLBACK
from tests.support.flows import Pkce, authorization_params, open_login, redirect_query

PKCE = Pkce.new()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def no_redis(make_authorize_client):
    return await make_authorize_client(redis_url=f"redis://127.0.0.1:{closed_port()}/0")


@pytest.fixture
def params(web_app):
    return authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid",
                                code_verifier=PKCE.verifier, state="s-9")


async def test_redis_down_redirects_temporarily_unavailable(no_redis, params, app_settings):
    response = await no_redis.get("/authorize", params=params, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].startswith(CALLBACK + "?")
    query = redirect_query(response)
    assert (query["error"], query["state"], query["iss"]) == ("temporarily_unavailable", "s-9", app_settings.issuer)


async def test_redis_down_with_an_unknown_client_is_still_a_page(no_redis, params):
    response = await no_redis.get("/authorize", params=dict(params, client_id="lk_nobody"), allow_redirects=False)
    assert response.status == 400 and "Location" not in response.headers


async def test_redis_down_on_the_login_page_is_503(authorize_client, no_redis, params):
    login = await open_login(authorize_client, params)
    response = await no_redis.get(login.location)
    assert response.status == 503
    body = await response.text()
    assert "temporarily unavailable" in body and "Traceback" not in body


async def test_readyz_reports_redis_down(no_redis):
    response = await no_redis.get("/readyz")
    assert (response.status, await response.json()) == (503, {"status": "unavailable", "postgres": "ok",
                                                               "redis": "down"})
