"""The JWKS cache of a running resource service against a JWKS served over real HTTP:
Cache-Control honoured, unknown kids refetched at most once per cooldown, stale keys served while
a refetch runs but only for a bounded time, outages give 503.
"""

from __future__ import annotations

import asyncio
import time

from tests.integration.resource.conftest import resource_service
from tests.integration.resource.minting import access_claims, bearer_header, mint, new_key
from tests.integration.resource.serving import JwksServer

COOLDOWN = 1  # the smallest cooldown settings allow, so the tests wait as little as possible


async def _status(http, url: str, token: str) -> tuple[int, str]:
    async with http.get(url + "/api/notes", headers=bearer_header(token)) as response:
        return response.status, response.headers.get("WWW-Authenticate", "")


async def _wait_for_prime(server: JwksServer) -> None:
    for _ in range(100):
        if server.hits:
            return
        await asyncio.sleep(0.01)


async def _wait_for_hits(server: JwksServer, hits: int) -> None:
    for _ in range(200):
        if server.hits >= hits:
            await asyncio.sleep(0.05)  # the fetch that was answered is being applied
            return
        await asyncio.sleep(0.01)


async def test_1000_random_kids_cause_at_most_one_fetch_per_cooldown(http, settings, user):
    key = new_key("ES256")  # fast to sign 2000 tokens with
    cooldown = 3  # longer than a batch of 1000 requests takes here
    claims = access_claims(settings, str(user.id), "notes:read")
    batches = [[mint(key, claims, kid=f"random-{b}-{i}") for i in range(1000)] for b in range(2)]

    async def send(tokens: list[str]) -> set[tuple[int, bool]]:
        answers = await asyncio.gather(*(_status(http, api.url, t) for t in tokens))
        return {(status, 'error="invalid_token"' in challenge) for status, challenge in answers}

    async with JwksServer([key.public_jwk]) as jwks:
        # All 1000 at once, none shed: what is measured is the fetches, not the load limit.
        async with resource_service(settings, jwks.url, jwks_refetch_cooldown=cooldown, check_revocation=False,
                                    max_concurrent_requests=len(batches[0])) as api:
            await _wait_for_prime(jwks)
            started = time.monotonic()
            assert jwks.hits == 1  # fetched once at start-up
            assert await send(batches[0]) == {(401, True)}
            assert time.monotonic() - started < cooldown, "batch too slow for this test's timing"
            assert jwks.hits == 1  # within the start-up fetch's cooldown: no fetch at all
            await asyncio.sleep(cooldown - (time.monotonic() - started) + 0.1)
            assert await send(batches[1]) == {(401, True)}
            assert jwks.hits == 2  # one refetch, shared by 1000 concurrent unknown kids


async def test_a_rotated_in_key_is_found_after_the_cooldown(http, settings, user):
    old, new = new_key(), new_key("ES256")
    async with JwksServer([old.public_jwk]) as jwks:
        async with resource_service(settings, jwks.url, jwks_refetch_cooldown=COOLDOWN, check_revocation=False) as api:
            await _wait_for_prime(jwks)
            jwks.keys.append(new.public_jwk)
            await asyncio.sleep(COOLDOWN + 0.1)
            claims = access_claims(settings, str(user.id), "notes:read")
            assert (await _status(http, api.url, mint(new, claims)))[0] == 200
            assert (await _status(http, api.url, mint(old, claims)))[0] == 200
            assert jwks.hits == 2


async def test_max_age_is_honoured_and_a_withdrawn_key_stops_working(http, settings, user):
    key = new_key()
    async with JwksServer([key.public_jwk], cache_control="max-age=1") as jwks:
        async with resource_service(settings, jwks.url, jwks_refetch_cooldown=COOLDOWN, check_revocation=False) as api:
            token = mint(key, access_claims(settings, str(user.id), "notes:read"))
            assert (await _status(http, api.url, token))[0] == 200
            jwks.keys = []
            assert (await _status(http, api.url, token))[0] == 200  # still fresh: no refetch
            await asyncio.sleep(1.2)
            assert (await _status(http, api.url, token))[0] == 200  # stale: served while revalidating
            await _wait_for_hits(jwks, 2)
            status, challenge = await _status(http, api.url, token)
            assert status == 401 and "unknown signing key" in challenge


async def test_a_stale_key_is_served_without_waiting_for_a_hanging_refetch(http, settings, user):
    key = new_key()
    async with JwksServer([key.public_jwk], cache_control="max-age=1") as jwks:
        async with resource_service(settings, jwks.url, jwks_refetch_cooldown=COOLDOWN, check_revocation=False,
                                    jwks_fetch_timeout=10) as api:
            token = mint(key, access_claims(settings, str(user.id), "notes:read"))
            assert (await _status(http, api.url, token))[0] == 200
            jwks.hanging.set()  # the token service stops answering
            await asyncio.sleep(1.2)
            started = time.monotonic()
            answers = await asyncio.gather(*(_status(http, api.url, token) for _ in range(20)))
            assert {status for status, _ in answers} == {200}
            assert time.monotonic() - started < 2, "requests waited on the JWKS refetch"
            assert jwks.hits == 2  # one background refetch for all twenty


async def test_stale_keys_stop_working_a_bounded_time_after_the_jwks_goes_down(http, settings, user):
    key = new_key()
    async with JwksServer([key.public_jwk], cache_control="max-age=1") as jwks:
        # Fresh for 1 s, then usable stale for jwks_cache_cap = 1 s more while refetches fail.
        async with resource_service(settings, jwks.url, jwks_refetch_cooldown=COOLDOWN, check_revocation=False,
                                    jwks_cache_cap=1) as api:
            token = mint(key, access_claims(settings, str(user.id), "notes:read"))
            assert (await _status(http, api.url, token))[0] == 200
            await jwks.stop()
            await asyncio.sleep(1.2)
            assert (await _status(http, api.url, token))[0] == 200  # stale, within the bound
            await asyncio.sleep(1.2)
            status, challenge = await _status(http, api.url, token)
            # A challenge without an error code: RFC 6750 §3.1 has none for "could not check".
            assert status == 503 and challenge == 'Bearer realm="latchkey"'
            assert (await _status(http, api.url, token))[0] == 503


async def test_cold_start_outage_is_503_then_recovers(http, settings, user):
    key = new_key()
    async with JwksServer([key.public_jwk]) as jwks:
        jwks.status = 503
        async with resource_service(settings, jwks.url, jwks_refetch_cooldown=COOLDOWN, check_revocation=False) as api:
            token = mint(key, access_claims(settings, str(user.id), "notes:read"))
            status, challenge = await _status(http, api.url, token)
            assert status == 503 and challenge.startswith("Bearer ")
            assert (await _status(http, api.url, token))[0] == 503
            jwks.status = 200
            await asyncio.sleep(COOLDOWN + 0.1)
            assert (await _status(http, api.url, token))[0] == 200


async def test_unreachable_jwks_is_503_not_acceptance(http, settings, user):
    key = new_key()
    async with JwksServer([key.public_jwk]) as jwks:
        dead_url = jwks.url
    async with resource_service(settings, dead_url, check_revocation=False) as api:
        token = mint(key, access_claims(settings, str(user.id), "notes:read"))
        assert (await _status(http, api.url, token))[0] == 503
