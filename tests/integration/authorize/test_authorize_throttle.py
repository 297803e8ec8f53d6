"""Repeated failed logins are refused with 429 per username and per client IP (Redis counters)."""

import asyncio

import pytest

from shared.crypto.digests import sha256_hex
from tests.integration.authorize.conftest import CALLBACK
from tests.support.flows import Pkce, authorization_params, open_login, submit_login

PKCE = Pkce.new()


@pytest.fixture
def params(web_app):
    return authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid",
                                code_verifier=PKCE.verifier)


async def test_too_many_failures_for_a_user_block_even_the_right_password(make_authorize_client, params, user,
                                                                            pool):
    client = await make_authorize_client(login_max_failures_user=3)
    page = await open_login(client, params)
    for _ in range(3):
        assert (await submit_login(client, page, user.username, "wrong")).status == 200
    blocked = await submit_login(client, page, user.username, user.password)
    assert blocked.status == 429
    body = await blocked.text()
    assert "Too many sign-in attempts" in body
    assert user.username not in body  # generic: does not confirm the account exists
    assert "Set-Cookie" not in blocked.headers
    assert (await submit_login(client, page, user.username, user.password)).status == 429
    events = await pool.fetch("SELECT details FROM audit_events WHERE event_type = 'login_throttled' "
                              "AND client_id = $1", params["client_id"])
    assert [e["details"] for e in events] == [{"limit": "user"}]  # one alarm, not one per blocked attempt


async def test_failures_for_an_unknown_user_are_throttled_the_same(make_authorize_client, params):
    client = await make_authorize_client(login_max_failures_user=2)
    page = await open_login(client, params)
    for _ in range(2):
        await submit_login(client, page, "ghost", "wrong")
    assert (await submit_login(client, page, "ghost", "wrong")).status == 429


async def test_one_ip_is_blocked_across_usernames(make_authorize_client, params, user):
    client = await make_authorize_client(login_max_failures_ip=3)
    page = await open_login(client, params)
    for name in ("a1", "a2", "a3"):
        await submit_login(client, page, name, "wrong")
    assert (await submit_login(client, page, user.username, user.password)).status == 429


async def test_other_users_are_not_affected_by_one_users_lockout(make_authorize_client, params, user):
    client = await make_authorize_client(login_max_failures_user=2)
    page = await open_login(client, params)
    for _ in range(2):
        await submit_login(client, page, "someone-else", "wrong")
    assert (await submit_login(client, page, user.username, user.password)).status == 303


async def test_success_forgets_earlier_failures(make_authorize_client, params, user):
    client = await make_authorize_client(login_max_failures_user=3)
    page = await open_login(client, params)
    for _ in range(2):
        await submit_login(client, page, user.username, "wrong")
    assert (await submit_login(client, page, user.username, user.password)).status == 303
    page = await open_login(client, dict(params, prompt="login"))
    for _ in range(2):
        await submit_login(client, page, user.username, "wrong")
    assert (await submit_login(client, page, user.username, user.password)).status == 303


async def test_counters_expire_with_the_window(make_authorize_client, params, redis, app_settings):
    client = await make_authorize_client(login_failure_window=120)
    await submit_login(client, await open_login(client, params), "ghost", "wrong")
    prefix = f"{app_settings.redis_prefix}login-fail"
    keys = (f"{prefix}:user:{sha256_hex('ghost')}", f"{prefix}:ip:{sha256_hex('127.0.0.1')}")
    for key in keys:  # one counter per username, one per IP, both hashed
        assert await redis.get(key) == b"1"
        assert 110 <= await redis.ttl(key) <= 120


ATTEMPTS = 40


@pytest.mark.parametrize("limits, usernames", [
    pytest.param({"login_max_failures_user": 3}, lambda i: "target", id="concurrent attempts on one user"),
    pytest.param({"login_max_failures_ip": 3}, lambda i: f"user-{i}", id="concurrent attempts from one IP"),
])
async def test_concurrent_attempts_cannot_outrun_the_limit(make_authorize_client, params, limits, usernames):
    client = await make_authorize_client(max_concurrent_requests=ATTEMPTS, **limits)  # none shed
    page = await open_login(client, params)
    responses = await asyncio.gather(*(submit_login(client, page, usernames(i), "wrong") for i in range(ATTEMPTS)))
    statuses = sorted(r.status for r in responses)
    assert statuses == [200] * 3 + [429] * (ATTEMPTS - 3)  # only 3 passwords were ever checked


async def test_successful_logins_do_not_use_up_the_ip_limit(make_authorize_client, params, user):
    client = await make_authorize_client(login_max_failures_ip=2)
    for _ in range(3):
        page = await open_login(client, dict(params, prompt="login"))
        assert (await submit_login(client, page, user.username, user.password)).status == 303
    await submit_login(client, page, "ghost", "wrong")
    assert (await submit_login(client, await open_login(client, dict(params, prompt="login")),
                               user.username, user.password)).status == 303  # one failure is under the limit
