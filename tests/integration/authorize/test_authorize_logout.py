"""/logout: asks first, ends the session on a CSRF-checked POST, clears the cookie."""

import pytest

from shared.crypto.digests import sha256_hex
from tests.integration.authorize.conftest import CALLBACK
from tests.support.flows import Pkce, authorization_params, open_page, redirect_query

PKCE = Pkce.new()


@pytest.fixture
def params(web_app):
    return authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid",
                                code_verifier=PKCE.verifier)


def session_id(client):
    return next(c.value for c in client.session.cookie_jar if c.key == "latchkey_session")


async def test_logout_without_a_session_just_says_signed_out(authorize_client):
    response = await authorize_client.get("/logout")
    assert response.status == 200 and "You are signed out" in await response.text()


async def test_logout_asks_then_ends_the_session(signed_in, params, redis, app_settings, user):
    key = f"{app_settings.redis_prefix}session:{sha256_hex(session_id(signed_in))}"
    page = await open_page(signed_in, "/logout")
    assert user.username in page.html and '<form method="post"' in page.html
    assert await redis.exists(key)  # GET changes nothing
    response = await signed_in.post("/logout", data={"csrf": page.csrf})
    assert response.status == 200 and "You are signed out" in await response.text()
    assert response.cookies["latchkey_session"]["max-age"] == "0"
    assert not await redis.exists(key)
    after = await signed_in.get("/authorize", params=dict(params, prompt="none"), allow_redirects=False)
    assert redirect_query(after)["error"] == "login_required"


async def test_logout_with_a_forged_csrf_keeps_the_session(signed_in, params, redis, app_settings):
    key = f"{app_settings.redis_prefix}session:{sha256_hex(session_id(signed_in))}"
    response = await signed_in.post("/logout", data={"csrf": "forged"})
    assert response.status == 403
    assert await redis.exists(key)


async def test_the_signed_out_page_leads_to_the_account_page(authorize_client):
    """Not a dead end: a link to /account, which asks to sign in first and then comes back."""
    page = await authorize_client.get("/logout")
    html = await page.text()
    assert page.status == 200 and "You are signed out" in html
    assert '<a class="button secondary" id="to-account" href="/account">Sign in to your account</a>' in html
    response = await authorize_client.get("/account", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"].startswith("/login?tx=")
