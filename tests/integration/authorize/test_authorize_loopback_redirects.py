"""Native apps' loopback redirect URIs (RFC 8252 §7.3): a registered ``http://127.0.0.1/...`` or
``http://[::1]/...`` takes any port at request time, path and query exact; ``localhost`` does not."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.support.factories import make_client
from tests.support.flows import Pkce, authorization_params, authorize_as_browser

PKCE = Pkce.new()


@pytest.fixture
async def native_app(pool):
    return await make_client(pool, public=True, name="Desktop App", redirect_uris=(
        "http://127.0.0.1/callback", "http://[::1]/callback", "http://localhost/callback"))


def params(native_app, redirect_uri: str, **extra: str) -> dict[str, str]:
    return authorization_params(client_id=native_app.client_id, redirect_uri=redirect_uri, scope="openid",
                                code_verifier=PKCE.verifier, **extra)


@pytest.mark.parametrize("redirect_uri", ["http://127.0.0.1:51234/callback", "http://[::1]:51234/callback",
                                          "http://127.0.0.1/callback"], ids=["ipv4", "ipv6", "no port"])
async def test_the_apps_port_is_redirected_to_and_bound_to_the_code(authorize_client, native_app, user, take_grant,
                                                                   redirect_uri):
    callback = await authorize_as_browser(authorize_client, params(native_app, redirect_uri),
                                          username=user.username, password=user.password)
    grant = await take_grant(callback["code"])
    assert grant is not None and grant.redirect_uri == redirect_uri  # the token request must repeat it


async def test_the_code_lands_on_the_apps_port(authorize_client, native_app, user):
    sent = "http://127.0.0.1:51234/callback"
    await authorize_as_browser(authorize_client, params(native_app, sent), username=user.username,
                               password=user.password)  # signs in and consents once
    again = await authorize_client.get("/authorize", params=params(native_app, sent), allow_redirects=False)
    assert again.status in (302, 303)
    location = urlsplit(again.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("http", "127.0.0.1:51234", "/callback")


async def test_errors_after_verification_go_to_the_apps_port(authorize_client, native_app):
    response = await authorize_client.get("/authorize", params=params(native_app, "http://127.0.0.1:51234/callback",
                                                                      response_type="token"),
                                          allow_redirects=False)
    assert response.status in (302, 303)
    assert response.headers["Location"].startswith("http://127.0.0.1:51234/callback?error=unsupported_response_type")


@pytest.mark.parametrize("redirect_uri", [
    "http://localhost:51234/callback",
    "http://127.0.0.1:51234/other",
    "http://127.0.0.1:51234/callback/",
    "http://127.0.0.1:51234/callback?x=1",
    "http://127.0.0.2:51234/callback",
], ids=["localhost with another port", "path mismatch", "trailing slash", "added query", "other loopback address"])
async def test_refused_with_the_error_page_never_redirected(authorize_client, native_app, redirect_uri):
    response = await authorize_client.get("/authorize", params=params(native_app, redirect_uri),
                                          allow_redirects=False)
    assert response.status == 400
    assert "Location" not in response.headers
    assert response.content_type == "text/html"
    assert "not one this application registered" in await response.text()
