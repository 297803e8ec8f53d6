"""Failed logins are refused with 429 per username and per client IP; correct logins never are."""

import asyncio

import aiohttp
import pytest

from shared.crypto.digests import sha256_hex
from tests.integration.authorize.conftest import CALLBACK, PASSWORD
from tests.support.factories import make_client, make_user
from tests.support.flows import Pkce, authorization_params, authorize_as_browser, open_login, submit_login

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
    assert "Too many sign-in attempts. Please try again in 15 minutes." in body  # the default 900 s window
    assert 890 <= int(blocked.headers["Retry-After"]) <= 900
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


async def test_concurrent_wrong_passwords_on_one_user_stop_at_its_limit(make_authorize_client, params):
    client = await make_authorize_client(login_max_failures_user=3, max_concurrent_requests=ATTEMPTS)
    page = await open_login(client, params)
    responses = await asyncio.gather(*(submit_login(client, page, "target", "wrong") for _ in range(ATTEMPTS)))
    statuses = sorted(r.status for r in responses)
    assert statuses == [200] * 3 + [429] * (ATTEMPTS - 3)  # only 3 passwords were ever checked


async def test_concurrent_wrong_passwords_from_one_ip_stop_near_its_limit(make_authorize_client, params, user):
    """Failures count once known, so attempts in flight together can pass the IP's check together:
    at most max_in_flight of them beyond max_ip - 1, and then nothing more from that IP."""
    client = await make_authorize_client(login_max_failures_ip=3, login_max_in_flight_ip=4,
                                         max_concurrent_requests=ATTEMPTS)  # none shed
    page = await open_login(client, params)
    responses = await asyncio.gather(*(submit_login(client, page, f"user-{i}", "wrong") for i in range(ATTEMPTS)))
    checked = sum(r.status == 200 for r in responses)
    assert 3 <= checked <= 3 - 1 + 4
    assert all(r.status == 429 for r in responses if r.status != 200)
    assert (await submit_login(client, page, user.username, user.password)).status == 429


async def test_attempts_in_flight_past_the_cap_are_told_to_retry_at_once(make_authorize_client, params, user):
    client = await make_authorize_client(login_max_in_flight_ip=1)
    page = await open_login(client, params)
    responses = await asyncio.gather(*(submit_login(client, page, f"user-{i}", "wrong") for i in range(8)))
    refused = [r for r in responses if r.status == 429]
    assert refused, "8 attempts at once never had more than 1 in flight"
    assert {r.headers["Retry-After"] for r in refused} == {"1"}
    assert "Please try again in 1 second." in await refused[0].text()
    assert (await submit_login(client, page, user.username, user.password)).status == 303  # nothing left held


async def test_successful_logins_do_not_use_up_the_ip_limit(make_authorize_client, params, user):
    client = await make_authorize_client(login_max_failures_ip=2)
    for _ in range(3):
        page = await open_login(client, dict(params, prompt="login"))
        assert (await submit_login(client, page, user.username, user.password)).status == 303
    await submit_login(client, page, "ghost", "wrong")
    assert (await submit_login(client, await open_login(client, dict(params, prompt="login")),
                               user.username, user.password)).status == 303  # one failure is under the limit


async def test_a_success_does_not_buy_back_the_ips_failures(make_authorize_client, params, user):
    """An attacker signing in to an account of their own between guesses gains no guesses."""
    client = await make_authorize_client(login_max_failures_ip=3)
    page = await open_login(client, params)
    for name in ("victim-1", "victim-2"):
        assert (await submit_login(client, page, name, "wrong")).status == 200
    assert (await submit_login(client, page, user.username, user.password)).status == 303
    page = await open_login(client, dict(params, prompt="login"))
    assert (await submit_login(client, page, "victim-3", "wrong")).status == 200
    assert (await submit_login(client, page, "victim-4", "wrong")).status == 429
    assert (await submit_login(client, page, user.username, user.password)).status == 429


OFFICE = 16


async def test_concurrent_correct_logins_from_one_address_all_succeed(make_authorize_client, params, pool, settings,
                                                                      take_grant):
    """An office behind one NAT address where a few people mistyped earlier: 16 complete flows at
    once, each a fresh browser and a different person, with the default limits."""
    client = await make_authorize_client()
    page = await open_login(client, params)
    for i in range(settings.login_max_failures_ip // 2):  # earlier typos, well under the IP limit
        assert (await submit_login(client, page, f"typo-{i}", "wrong")).status == 200
    people = [await make_user(pool, settings, password=PASSWORD) for _ in range(OFFICE)]

    async def sign_in(username: str) -> dict[str, str]:
        async with aiohttp.ClientSession(base_url=client.make_url(""),
                                         cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            return await authorize_as_browser(browser, params, username=username, password=PASSWORD)

    callbacks = await asyncio.gather(*(sign_in(p.username) for p in people), return_exceptions=True)
    refused = [c for c in callbacks if not isinstance(c, dict)]
    assert refused == []  # a 429 on the login page fails authorize_as_browser's redirect assertion
    grants = [await take_grant(c["code"]) for c in callbacks if isinstance(c, dict)]
    assert sorted(str(g.user_id) for g in grants) == sorted(str(p.id) for p in people)


async def test_the_throttle_page_states_the_wait_redis_holds(make_authorize_client, params, redis, app_settings):
    """The page and Retry-After say what is left of the counter's TTL, not the configured window."""
    client = await make_authorize_client(login_max_failures_user=1)
    page = await open_login(client, params)
    await submit_login(client, page, "ghost", "wrong")
    counter = f"{app_settings.redis_prefix}login-fail:user:{sha256_hex('ghost')}"
    await redis.expire(counter, 125)
    blocked = await submit_login(client, page, "ghost", "wrong")
    assert blocked.status == 429 and 120 <= int(blocked.headers["Retry-After"]) <= 125
    assert "Please try again in 3 minutes." in await blocked.text()  # rounded up, never shorter
    await redis.expire(counter, 42)
    blocked = await submit_login(client, page, "ghost", "wrong")
    seconds = int(blocked.headers["Retry-After"])
    assert 40 <= seconds <= 42 and f"Please try again in {seconds} seconds." in await blocked.text()


async def test_the_throttle_page_links_back_to_the_client_and_has_a_reference(make_authorize_client, pool):
    home = await make_client(pool, redirect_uris=(CALLBACK,), name="Photo Printer", client_uri="https://photos.example")
    client = await make_authorize_client(login_max_failures_user=1)
    page = await open_login(client, authorization_params(client_id=home.client_id, redirect_uri=CALLBACK,
                                                         scope="openid", code_verifier=PKCE.verifier))
    await submit_login(client, page, "ghost", "wrong")
    blocked = await submit_login(client, page, "ghost", "wrong")
    html = await blocked.text()
    assert blocked.status == 429 and 'href="https://photos.example"' in html and 'id="request-reference"' in html
