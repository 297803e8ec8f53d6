"""A revocation the Redis primary acknowledged, then lost in a Sentinel failover, still holds.

Redis replicates asynchronously: a denylist entry the primary acknowledged is gone if the
primary dies before its replica copied it, and the promoted replica would accept the token
again. With LATCHKEY_REVOCATION_REPLICAS=1 the token service follows the write with WAIT and
keeps the revocation's pending_revocations row until a replica confirmed it; an unconfirmed row
is written again every LATCHKEY_REVOCATION_RETRY_SECONDS, so the promoted replica gets it.

Real servers: a private Redis primary, replica and three sentinels (tests.support.redis_sentinel);
the token and resource services over real HTTP. The replica's link is cut before the revocations
(as a lagging replica would be), so the loss is certain rather than a race against replication.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import aiohttp
import jwt
from redis.asyncio import Redis

from shared.bearer.revocation import revoked_jti_key
from tests.integration.resource.conftest import resource_service
from tests.integration.token.helpers import exchange, issue_code, post_form, running
from tests.integration.token.test_token_revocation_redis_down import refused_within, whoami
from tests.support.redis_sentinel import sentinel_group

RETRY_SECONDS = 1
WAIT_MS = 200
# After the sentinels name the promoted replica: the services' next connections reach it, then
# one retry interval at most, plus slack for a loaded test machine.
BOUND_SECONDS = RETRY_SECONDS + 3


def jti_of(access_token: str) -> str:
    jti: str = jwt.decode(access_token, options={"verify_signature": False})["jti"]
    return jti


async def pending(pool, jtis: list[str]) -> list[str]:
    rows = await pool.fetch("SELECT jti FROM pending_revocations WHERE jti = ANY($1::text[]) ORDER BY jti", jtis)
    return [r["jti"] for r in rows]


async def accepted_until_refused(http: aiohttp.ClientSession, api_url: str, access_token: str,
                                 seconds: float) -> int:
    """How often the resource service accepted the token before it refused it as revoked (the
    window the retry interval bounds); fails if it is not refused within ``seconds``."""
    started, accepted = time.monotonic(), 0
    while (answer := await whoami(http, api_url, access_token))[0] != 401:
        accepted += answer[0] == 200
        assert time.monotonic() - started < seconds, f"still not refused after {seconds} s: {answer}"
        await asyncio.sleep(0.05)
    return accepted


async def test_a_revocation_lost_in_a_failover_reaches_the_promoted_replica(settings, pool, app_client, user):
    with sentinel_group() as group:
        moved = dataclasses.replace(settings, redis_url=group.url, revocation_retry=RETRY_SECONDS,
                                    revocation_replicas=1, revocation_wait_ms=WAIT_MS)
        primary = Redis(host="127.0.0.1", port=group.primary_port)
        try:
            codes = [await issue_code(primary, moved, app_client, user) for _ in range(3)]
        finally:
            await primary.aclose()
        async with running(moved) as http, \
                resource_service(moved, str(http.make_url("/jwks")), check_revocation=True) as api, \
                aiohttp.ClientSession() as to_api:
            replicated, lost, grant = [await (await exchange(http, app_client, code)).json() for code in codes]

            # Replicated at once: WAIT confirms it, so nothing is left pending.
            revoked = await post_form(http, "/revoke", app_client, {"token": replicated["access_token"]})
            assert revoked.status == 200
            assert await pending(pool, [jti_of(replicated["access_token"])]) == []

            # The replica stops following: these writes are the primary's alone.
            group.cut_replication()
            started = time.monotonic()
            revoked = await post_form(http, "/revoke", app_client, {"token": lost["access_token"]})
            waited = time.monotonic() - started
            assert revoked.status == 200 and waited >= WAIT_MS / 1000
            revoked = await post_form(http, "/revoke", app_client, {"token": grant["refresh_token"],
                                                                    "token_type_hint": "refresh_token"})
            assert revoked.status == 200
            owed = sorted([jti_of(lost["access_token"]), jti_of(grant["access_token"])])
            assert await pending(pool, owed) == owed  # unconfirmed: the rows stay
            with group.client(group.replica_port) as replica:
                assert not any(replica.exists(revoked_jti_key(moved.redis_prefix, jti)) for jti in owed)
            assert (await whoami(to_api, api.url, lost["access_token"]))[0] == 401  # the primary has them

            group.kill_primary()
            promoted = await asyncio.to_thread(group.wait_promoted)
            accepted = await accepted_until_refused(to_api, api.url, lost["access_token"], BOUND_SECONDS)
            window = await refused_within(to_api, api.url, [lost["access_token"], grant["access_token"],
                                                            replicated["access_token"]], BOUND_SECONDS)
            introspected = await post_form(http, "/introspect", app_client, {"token": lost["access_token"]})
            assert (await introspected.json()) == {"active": False}
            # The promoted replica has no replica of its own: nothing can confirm the rows yet.
            assert await pending(pool, owed) == owed
            print(f"\npromoted after {promoted:.2f} s; then the lost revocation's token was accepted "
                  f"{accepted} times (polled every 50 ms) before refused; all refused {window:.2f} s later; "
                  f"an unconfirmed revocation waited {waited * 1000:.0f} ms for WAIT")
