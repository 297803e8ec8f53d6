"""Requests whose client or redirect URI cannot be verified get a page, never a redirect.

RFC 6749 §3.1.2.4 and §4.1.2.1, RFC 9700 §4.1: redirecting such an error would make the server
an open redirector.
"""

from urllib.parse import urlencode

import pytest

from tests.integration.authorize.conftest import CALLBACK
from tests.support.factories import make_client

OTHER = "https://app.example/other"


@pytest.fixture
async def two_uri_app(pool):
    return await make_client(pool, redirect_uris=(CALLBACK, OTHER))


def query(client_id, **overrides):
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "scope": "profile",
              "state": "s1", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
              "code_challenge_method": "S256", **overrides}
    return urlencode({k: v for k, v in params.items() if v is not None})


@pytest.mark.parametrize("overrides, extra, message", [
    pytest.param({"client_id": None}, "", "client_id is missing", id="missing client_id"),
    pytest.param({"client_id": "lk_nobody"}, "", "not registered", id="unknown client_id"),
    pytest.param({}, "&client_id=lk_nobody", "more than once", id="repeated client_id"),
    pytest.param({"redirect_uri": "https://evil.example/callback"}, "", "not one this application registered",
                 id="redirect_uri on another host"),
    pytest.param({"redirect_uri": CALLBACK + "/"}, "", "not one this application", id="redirect_uri with a slash"),
    pytest.param({"redirect_uri": CALLBACK + "?next=https://evil.example"}, "", "not one this application",
                 id="redirect_uri with an added query"),
    pytest.param({"redirect_uri": "HTTPS://app.example/callback"}, "", "not one this application",
                 id="redirect_uri in another case"),
    pytest.param({"redirect_uri": "https://app.example/call"}, "", "not one this application",
                 id="redirect_uri that is a prefix"),
    pytest.param({}, f"&redirect_uri={CALLBACK}", "more than once", id="repeated redirect_uri"),
    pytest.param({"redirect_uri": None, "scope": "openid"}, "", "OpenID Connect request must give",
                 id="redirect_uri omitted in an OIDC request"),
])
async def test_page_not_redirect(authorize_client, web_app, overrides, extra, message):
    client_id = overrides.pop("client_id", web_app.client_id)
    response = await authorize_client.get(f"/authorize?{query(client_id, **overrides)}{extra}",
                                          allow_redirects=False)
    assert response.status == 400
    assert "Location" not in response.headers
    assert response.content_type == "text/html"
    assert message in await response.text()


async def test_omitted_redirect_uri_with_two_registered_is_a_page(authorize_client, two_uri_app):
    response = await authorize_client.get(f"/authorize?{query(two_uri_app.client_id, redirect_uri=None)}",
                                          allow_redirects=False)
    assert response.status == 400 and "Location" not in response.headers
    assert "registered more than one" in await response.text()


async def test_other_errors_before_verification_are_still_pages(authorize_client):
    """Even a wrong response_type is a page while the client is unknown."""
    response = await authorize_client.get(f"/authorize?{query('lk_nobody', response_type='token')}",
                                          allow_redirects=False)
    assert response.status == 400 and "Location" not in response.headers


async def test_omitted_redirect_uri_with_one_registered_is_used(authorize_client, web_app):
    response = await authorize_client.get(f"/authorize?{query(web_app.client_id, redirect_uri=None)}",
                                          allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].startswith("/login?tx=")
