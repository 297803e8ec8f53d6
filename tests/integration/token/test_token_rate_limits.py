"""Rate limits at /token, /revoke and /introspect (shared.web.rate_limits) over the run's Redis.

Small limits stand in for the defaults so each test sends a handful of requests; one test uses
the default failed-authentication limit (50 a minute) as it is.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from shared.config import Settings
from tests.integration.token.helpers import basic, post_form
from tests.support.factories import make_client

OFF = {"rate_limit_client": 0, "rate_limit_ip": 0, "rate_limit_client_failures": 0, "rate_limit_ip_failures": 0}


def limits(**on: int) -> dict[str, int]:
    return {**OFF, **on}


async def introspect(http, client, **headers: str):
    return await post_form(http, "/introspect", client, {"token": "not-a-token"}, headers)


async def wrong_secret(http, client, path: str = "/introspect", **headers: str):
    return await http.post(path, data={"token": "x"},
                           headers={"Authorization": basic(client.client_id, "wrong"), **headers})


async def assert_limited(response) -> None:
    assert response.status == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert body["error"] == "temporarily_unavailable"
    assert "rate limit" in body["error_description"]


def _count_round_trips(*limiters) -> list[int]:
    """The sizes of the admission batches the limiters send to Redis (the store call they go to)."""
    calls: list[int] = []
    for limiter in limiters:
        admit_many = limiter._admissions._many

        async def counted(requests, admit_many=admit_many):
            calls.append(len(requests))
            return await admit_many(requests)

        limiter._admissions._many = counted
    return calls


async def test_over_the_client_limit_is_429_with_retry_after(start_token_app, app_client):
    async with start_token_app(**limits(rate_limit_client=3)) as http:
        for _ in range(3):
            assert (await introspect(http, app_client)).status == 200
        limited = await introspect(http, app_client)
        await assert_limited(limited)
        # 3 a minute: the next place frees after 20 s, and Retry-After says so.
        assert 15 <= int(limited.headers["Retry-After"]) <= 20


@pytest.mark.parametrize("path", ["/token", "/revoke", "/introspect"])
async def test_every_endpoint_shares_the_limit(start_token_app, pool, path):
    client = await make_client(pool)
    async with start_token_app(**limits(rate_limit_client=1)) as http:
        await introspect(http, client)
        await assert_limited(await post_form(http, path, client, {"token": "x", "grant_type": "client_credentials"}))


async def test_clients_are_limited_independently(start_token_app, app_client, other_client):
    async with start_token_app(**limits(rate_limit_client=2)) as http:
        for _ in range(2):
            assert (await introspect(http, app_client)).status == 200
        await assert_limited(await introspect(http, app_client))
        assert (await introspect(http, other_client)).status == 200


async def test_failed_authentication_is_limited_at_50_a_minute_by_default(start_token_app, app_client):
    assert Settings.__dataclass_fields__["rate_limit_client_failures"].default == 50
    async with start_token_app(**limits(rate_limit_client_failures=50)) as http:
        for attempt in range(50):
            assert (await wrong_secret(http, app_client)).status == 401, attempt
        await assert_limited(await wrong_secret(http, app_client))
        # The right secret is refused too: the limit is on the client, whatever it sends now.
        await assert_limited(await introspect(http, app_client))


async def test_crossing_the_failure_limit_is_audited_once(start_token_app, pool, app_client):
    async with start_token_app(**limits(rate_limit_client_failures=3)) as http:
        for _ in range(3):
            assert (await wrong_secret(http, app_client)).status == 401
        await assert_limited(await wrong_secret(http, app_client))
    rows = await pool.fetch("SELECT details FROM audit_events WHERE event_type = 'client_auth_throttled' "
                            "AND client_id = $1", app_client.client_id)
    assert len(rows) == 1


async def test_failures_are_limited_per_address_through_a_trusted_proxy(start_token_app, pool):
    clients = [await make_client(pool) for _ in range(4)]
    trusted = {"trusted_proxies": Settings.__dataclass_fields__["trusted_proxies"].metadata["env"].parse("127.0.0.0/8")}
    async with start_token_app(**limits(rate_limit_ip_failures=3), **trusted) as http:
        attacker = {"X-Forwarded-For": "203.0.113.7"}
        for client in clients[:3]:  # credential stuffing: one guess per client from one address
            assert (await wrong_secret(http, client, **attacker)).status == 401
        await assert_limited(await wrong_secret(http, clients[3], **attacker))
        # Another address behind the same gateway is not limited.
        assert (await introspect(http, clients[3], **{"X-Forwarded-For": "198.51.100.1"})).status == 200


async def test_requests_are_limited_per_address(start_token_app, pool):
    clients = [await make_client(pool) for _ in range(3)]
    trusted = {"trusted_proxies": Settings.__dataclass_fields__["trusted_proxies"].metadata["env"].parse("127.0.0.0/8")}
    async with start_token_app(**limits(rate_limit_ip=2), **trusted) as http:
        here = {"X-Forwarded-For": "203.0.113.8"}
        for client in clients[:2]:
            assert (await introspect(http, client, **here)).status == 200
        await assert_limited(await introspect(http, clients[2], **here))


async def test_an_untrusted_peer_cannot_pick_its_address(start_token_app, pool):
    """Without LATCHKEY_TRUSTED_PROXIES, X-Forwarded-For is ignored: a new header per request
    does not get a fresh per-address budget."""
    clients = [await make_client(pool) for _ in range(3)]
    async with start_token_app(**limits(rate_limit_ip_failures=2)) as http:
        for n, client in enumerate(clients[:2]):
            assert (await wrong_secret(http, client, **{"X-Forwarded-For": f"203.0.113.{n}"})).status == 401
        await assert_limited(await wrong_secret(http, clients[2], **{"X-Forwarded-For": "203.0.113.99"}))


async def test_limits_set_to_zero_are_off(start_token_app, app_client):
    async with start_token_app(**OFF) as http:
        for _ in range(60):
            assert (await wrong_secret(http, app_client)).status == 401
        assert (await introspect(http, app_client)).status == 200


async def test_an_unreachable_redis_admits(unused_tcp_port):
    """Fails open: a limiter whose Redis is down lets requests through (and logs)."""
    from redis.asyncio import Redis

    from shared.web.rate_limits import Limits, RateLimiter

    redis = Redis(host="127.0.0.1", port=unused_tcp_port, socket_connect_timeout=1)
    try:
        limiter = RateLimiter(redis, "lktest:", "token", Limits(1, 1, 1, 1))
        for _ in range(3):
            await limiter.admit("some-client", "203.0.113.9")
        assert await limiter.record_failure("some-client", "203.0.113.9") == []
    finally:
        await redis.aclose()


async def test_requests_arriving_together_share_one_script_call_and_are_decided_in_order(redis, settings):
    """A burst of 12 concurrent admissions at a limit of 5 a minute (burst 5): one round trip,
    exactly 5 admitted, the other 7 told when to come back; a lone request is a batch of one."""
    from shared.web.rate_limits import Limits, RateLimited, RateLimiter

    limiter = RateLimiter(redis, f"{settings.redis_prefix}batch:", "token", Limits(5, 0, 0, 0))
    calls = _count_round_trips(limiter)
    outcomes = await asyncio.gather(*(limiter.admit("burst-client", "203.0.113.7") for _ in range(12)),
                                    return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, RateLimited)]
    assert calls == [12]
    assert (outcomes.count(None), len(refused)) == (5, 7)
    assert all(r.retry_after >= 1 for r in refused)
    with pytest.raises(RateLimited):
        await limiter.admit("burst-client", "203.0.113.7")
    await limiter.admit("another-client", "203.0.113.7")
    assert calls == [12, 1, 1]


async def test_with_only_failure_limits_a_caller_with_no_failures_here_is_admitted_without_a_round_trip(
        redis, settings):
    """Three processes' limiters on one Redis, the request limits off. A client over its failure
    limit through the first gets one more guess on each other process, whose charge puts it on
    record there; from then on that process refuses it, locally while the charge said so and then
    by asking Redis, until its bucket has refilled: the limit plus one guess per process."""
    from shared.web.rate_limits import Limits, RateLimited, RateLimiter

    prefix = f"{settings.redis_prefix}replicas:"
    first, second, third = (RateLimiter(redis, prefix, "token", Limits(0, 0, 3, 0)) for _ in range(3))
    calls = _count_round_trips(first, second, third)
    for guess in range(3):
        await first.admit("guessed-client", "203.0.113.7")
        assert await first.record_failure("guessed-client", "203.0.113.7") == (["client"] if guess == 2 else [])
    with pytest.raises(RateLimited) as refused:
        await first.admit("guessed-client", "203.0.113.7")
    assert 15 <= refused.value.retry_after <= 20  # 3 a minute: the next guess in 20 s
    # The first guess needed no round trip, the next two (failures on record here) asked Redis; a
    # refusal a charge here reported needs none.
    assert calls == [1, 1]
    for process in (second, third):
        await process.admit("guessed-client", "203.0.113.7")  # nothing on record here: one more guess
        assert await process.record_failure("guessed-client", "203.0.113.7") == []  # crossed on the first
        with pytest.raises(RateLimited):
            await process.admit("guessed-client", "203.0.113.7")
        # Once the refusal its own charge reported is over, the caller is still on record here:
        # Redis decides, and the failures of every process keep it refused.
        key = next(iter(process._on_record))
        process._on_record[key] = (time.monotonic() - 0.001, process._on_record[key][1])
        with pytest.raises(RateLimited):
            await process.admit("guessed-client", "203.0.113.7")
    assert calls == [1, 1, 1, 1]
    await third.admit("another-client", "203.0.113.7")
    assert calls == [1, 1, 1, 1]


async def test_a_caller_whose_failures_are_no_longer_on_record_is_admitted_here_again(redis, settings):
    from shared.web.rate_limits import Limits, RateLimited, RateLimiter

    limiter = RateLimiter(redis, f"{settings.redis_prefix}expiry:", "token", Limits(0, 0, 1, 0))
    calls = _count_round_trips(limiter)
    await limiter.record_failure("one-guess-client", "203.0.113.8")
    with pytest.raises(RateLimited):
        await limiter.admit("one-guess-client", "203.0.113.8")
    [key] = limiter._on_record
    limiter._on_record[key] = (time.monotonic() - 0.002, time.monotonic() - 0.001)  # as if a minute had passed
    await limiter.admit("one-guess-client", "203.0.113.8")
    assert not limiter._on_record and calls == []


async def test_with_a_request_limit_every_admission_asks_redis(redis, settings):
    """The admin API's shape (a per-token request limit, failures per address): one path for a
    right token and a wrong one, so which answer comes back tells a guesser nothing."""
    from shared.web.rate_limits import Limits, RateLimited, RateLimiter

    prefix = f"{settings.redis_prefix}admin-shape:"
    first, second = (RateLimiter(redis, prefix, "admin", Limits(600, 0, 0, 2)) for _ in range(2))
    calls = _count_round_trips(first, second)
    for _ in range(2):
        await first.admit(None, "203.0.113.9")
        await first.record_failure(None, "203.0.113.9")
    for process in (first, second):
        for subject in (None, "right-token"):
            with pytest.raises(RateLimited):
                await process.admit(subject, "203.0.113.9")
    assert calls == [1, 1, 1, 1, 1, 1]
