""""Not you?" on the login and consent pages: the same authorization request starts over with a
fresh login (prompt=login semantics), the session ends, and the only redirect is our login page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from shared.crypto.digests import sha256_hex
from tests.integration.authorize.conftest import CALLBACK, PASSWORD, TestUser
from tests.support.factories import make_client, make_user
from tests.support.flows import (
    Page,
    Pkce,
    authorization_params,
    location_of,
    open_login,
    open_page,
    redirect_query,
    submit_login,
)

PKCE = Pkce.new()
SWITCH = "Use another account"


@pytest.fixture
def params(web_app):
    return authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid profile",
                                code_verifier=PKCE.verifier, state="switch-state-77")


@pytest.fixture
async def other_user(pool, settings) -> TestUser:
    return TestUser(await make_user(pool, settings, password=PASSWORD), PASSWORD)


def session_key(app_settings, client) -> str:
    value: str = next(c.value for c in client.session.cookie_jar if c.key == "latchkey_session")
    return f"{app_settings.redis_prefix}session:{sha256_hex(value)}"


async def consent_page(client, params, user):
    """Signed in as ``user``, at the consent page of ``params``."""
    login = await open_login(client, params)
    consent = location_of(await submit_login(client, login, user.username, user.password))
    assert urlsplit(consent).path == "/consent", consent
    return await open_page(client, consent)


def switch_path(page: Page) -> str:
    return "/login/switch?" + urlsplit(page.location).query


async def test_not_you_on_consent_restarts_the_same_request_for_another_user(
        authorize_client, params, user, other_user, redis, app_settings, take_grant):
    page = await consent_page(authorize_client, params, user)
    assert SWITCH in page.html and f'action="{switch_path(page)}"' in page.html
    old_session = session_key(app_settings, authorize_client)

    response = await authorize_client.post(switch_path(page), data={"csrf": page.csrf}, allow_redirects=False)

    login = location_of(response)
    assert response.status == 303 and login.startswith("/login?tx=") and login != page.location.replace("consent",
                                                                                                        "login")
    assert response.cookies["latchkey_session"]["max-age"] == "0"
    assert not await redis.exists(old_session)
    fresh = await open_page(authorize_client, login)
    assert "Photo Printer" in fresh.html and 'value=""' in fresh.html  # the same client, nobody filled in
    consent = await open_page(authorize_client, location_of(
        await submit_login(authorize_client, fresh, other_user.username, other_user.password)))
    assert other_user.username in consent.html
    done = await authorize_client.post(consent.location, data={"csrf": consent.csrf, "decision": "allow"},
                                       allow_redirects=False)
    callback = redirect_query(done)
    assert callback["state"] == "switch-state-77" and location_of(done).startswith(CALLBACK)
    grant = await take_grant(callback["code"])
    assert grant is not None and (grant.user_id, grant.scope) == (other_user.id, ("openid", "profile"))


async def test_the_old_pages_are_dead_after_a_switch(authorize_client, params, user):
    page = await consent_page(authorize_client, params, user)
    await authorize_client.post(switch_path(page), data={"csrf": page.csrf}, allow_redirects=False)
    replayed = await authorize_client.post(switch_path(page), data={"csrf": page.csrf}, allow_redirects=False)
    allowed = await authorize_client.post(page.location, data={"csrf": page.csrf, "decision": "allow"},
                                          allow_redirects=False)
    assert replayed.status == 400 and allowed.status == 400  # the transaction is gone: never a code


@pytest.mark.parametrize("csrf", [None, "forged"], ids=["missing", "forged"])
async def test_a_switch_without_the_forms_token_is_refused(authorize_client, params, user, redis, app_settings, csrf):
    page = await consent_page(authorize_client, params, user)
    response = await authorize_client.post(switch_path(page), data={"csrf": csrf} if csrf else {},
                                           allow_redirects=False)
    assert response.status == 403
    assert await redis.exists(session_key(app_settings, authorize_client))
    still = await authorize_client.post(page.location, data={"csrf": page.csrf, "decision": "allow"},
                                        allow_redirects=False)
    assert "code" in redirect_query(still)


async def test_not_you_on_the_login_page_drops_the_login_hint(authorize_client, web_app, user):
    params = authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid",
                                  code_verifier=PKCE.verifier, login_hint=user.username)
    login = await open_login(authorize_client, params)
    assert f"Not <strong>{user.username}</strong>?" in login.html and f'value="{user.username}"' in login.html
    response = await authorize_client.post(switch_path(login), data={"csrf": login.csrf}, allow_redirects=False)
    fresh = await open_page(authorize_client, location_of(response))
    assert user.username not in fresh.html and SWITCH not in fresh.html


async def test_not_you_on_a_forced_re_login_ends_the_session(signed_in_browser, web_app, user, redis, app_settings):
    params = authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid",
                                  code_verifier=PKCE.verifier, prompt="login")
    login = await open_login(signed_in_browser, params)
    assert f"Not <strong>{user.username}</strong>?" in login.html
    key = session_key(app_settings, signed_in_browser)
    response = await signed_in_browser.post(switch_path(login), data={"csrf": login.csrf}, allow_redirects=False)
    assert urlsplit(location_of(response)).path == "/login"
    assert not await redis.exists(key)
    silent = await signed_in_browser.get("/authorize", params=dict(params, prompt="none"), allow_redirects=False)
    assert redirect_query(silent)["error"] == "login_required"


async def test_a_first_login_offers_no_switch(authorize_client, params):
    assert SWITCH not in (await open_login(authorize_client, params)).html


@pytest.fixture
async def signed_in_browser(authorize_client, pool, user):
    """Signed in (and consented) through another client, so the session exists."""
    other = await make_client(pool, redirect_uris=(CALLBACK,), name="Other App")
    params = authorization_params(client_id=other.client_id, redirect_uri=CALLBACK, scope="openid",
                                  code_verifier=PKCE.verifier)
    page = await consent_page(authorize_client, params, user)
    await authorize_client.post(page.location, data={"csrf": page.csrf, "decision": "allow"}, allow_redirects=False)
    return authorize_client
