"""A signed-in browser: prompt=none, prompt=login, max_age, disabled users (OIDC Core §3.1.2.1)."""

import asyncio
import time

import pytest

from shared.stores.redis_sessions import RedisSessions
from tests.integration.authorize.conftest import CALLBACK
from tests.support.flows import (
    DEFAULT_STATE,
    Pkce,
    authorization_params,
    authorize_as_browser,
    open_page,
    redirect_query,
    submit_login,
)

PKCE = Pkce.new()


@pytest.fixture
def params(web_app):
    return authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid profile",
                                code_verifier=PKCE.verifier)


async def authorize(client, params, **extra):
    return await client.get("/authorize", params={**params, **extra}, allow_redirects=False)


async def test_prompt_none_with_session_and_consent_gets_a_code(signed_in, params):
    response = await authorize(signed_in, params, prompt="none")
    assert response.status == 302
    assert set(redirect_query(response)) == {"code", "state", "iss"}


async def test_prompt_none_without_consent_is_consent_required(signed_in, params, app_settings):
    response = await authorize(signed_in, params, prompt="none", scope="openid profile email")
    assert redirect_query(response) == {"error": "consent_required", "state": DEFAULT_STATE, "iss": app_settings.issuer,
                                        "error_description": "the user has not approved this client for the "
                                                             "requested scope"}


async def test_prompt_none_with_an_unapproved_offline_access_drops_it(signed_in, params, take_grant):
    response = await authorize(signed_in, params, prompt="none", scope="openid offline_access")
    grant = await take_grant(redirect_query(response)["code"])
    assert grant.scope == ("openid",)


async def test_prompt_none_with_a_remembered_offline_access_keeps_it(signed_in, params, user, take_grant):
    """OIDC Core §11: a remembered consent for offline_access permits it without prompt=consent."""
    await authorize_as_browser(signed_in, {**params, "scope": "openid offline_access"}, username=user.username,
                               password=user.password)
    response = await authorize(signed_in, params, prompt="none", scope="openid offline_access")
    grant = await take_grant(redirect_query(response)["code"])
    assert grant.scope == ("openid", "offline_access")


async def test_codes_carry_the_session_sid_and_the_session_lists_the_client(signed_in, params, take_grant, redis,
                                                                            app_settings, web_app):
    cookie = next(c.value for c in signed_in.session.cookie_jar if c.key == "latchkey_session")
    session = RedisSessions(redis, app_settings.redis_prefix)
    stored = await session.get(cookie)
    assert stored is not None and stored.sid and stored.sid != cookie
    grant = await take_grant(redirect_query(await authorize(signed_in, params, prompt="none"))["code"])
    assert grant.sid == stored.sid
    assert await session.clients_of(stored.sid) == {web_app.client_id}
    assert 0 < await redis.ttl(f"{app_settings.redis_prefix}session-clients:{stored.sid}") <= app_settings.session_ttl


async def test_prompt_login_forces_the_login_page(signed_in, params):
    response = await authorize(signed_in, params, prompt="login")
    assert response.headers["Location"].startswith("/login?tx=")


@pytest.mark.parametrize("max_age, goes_to", [
    pytest.param("0", "/login?tx=", id="max_age=0 forces login"),
    pytest.param("3600", CALLBACK, id="a recent login satisfies max_age"),
])
async def test_max_age(signed_in, params, max_age, goes_to):
    response = await authorize(signed_in, params, max_age=max_age)
    assert response.headers["Location"].startswith(goes_to)


async def test_max_age_exceeded_with_prompt_none_is_login_required(signed_in, params):
    response = await authorize(signed_in, params, prompt="none", max_age="0")
    assert redirect_query(response)["error"] == "login_required"


async def test_a_forced_login_updates_auth_time(signed_in, params, user, take_grant):
    callback = await authorize_as_browser(signed_in, {**params, "max_age": "0"}, username=user.username,
                                          password=user.password)
    grant = await take_grant(callback["code"])
    assert abs(grant.auth_time - time.time()) < 5


async def test_a_disabled_users_session_no_longer_counts(signed_in, params, user, pool):
    await pool.execute("UPDATE users SET disabled = true WHERE id = $1", user.record.id)
    assert redirect_query(await authorize(signed_in, params, prompt="none"))["error"] == "login_required"
    assert (await authorize(signed_in, params)).headers["Location"].startswith("/login?tx=")



async def test_a_login_that_cannot_finish_leaves_the_session_alone(signed_in, params, user, redis, app_settings):
    """A double-submitted login form: the losing submissions start no session of their own."""
    page = await open_page(signed_in, (await authorize(signed_in, params, prompt="login")).headers["Location"])
    responses = await asyncio.gather(*(submit_login(signed_in, page, user.username, user.password)
                                       for _ in range(4)))  # fewer than the throttle's in-flight limit
    assert sorted(r.status for r in responses) == [303] + [400] * 3
    assert all("Set-Cookie" not in r.headers for r in responses if r.status == 400)
    sessions = await redis.keys(f"{app_settings.redis_prefix}session:*")
    assert len(sessions) == 1  # the winner's; the old one ended, no orphan was started
