"""A grant revoked while Redis is down (RFC 9700 §4.14.2): the revocation commits in PostgreSQL
with the denylist entries it owes, and the token service writes them once Redis is back.

The token and resource services run over real HTTP against a private redis-server
(tests.support.restartable) that the test kills and restarts. Meanwhile the resource service
fails closed (503: it cannot prove a token unrevoked), and once Redis answers again it refuses
the grant's access tokens within LATCHKEY_REVOCATION_RETRY_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from shared.config import Settings
from shared.crypto.digests import sha256_hex
from shared.management import clients, users
from shared.management.backends import Backends
from shared.stores.outages import STORE_ERRORS
from tests.integration.resource.conftest import resource_service
from tests.integration.resource.minting import bearer_header
from tests.integration.token.helpers import IssuedCode, error_of, exchange, issue_code, refresh, running
from tests.support.restartable import private_redis

RETRY_SECONDS = 1
# The bound the test holds the service to once Redis answers PING: one retry interval, plus
# slack for a loaded test machine.
BOUND_SECONDS = RETRY_SECONDS + 2


async def whoami(http: aiohttp.ClientSession, api_url: str, access_token: str) -> tuple[int, dict[str, Any]]:
    async with http.get(api_url + "/api/whoami", headers=bearer_header(access_token)) as response:
        return response.status, await response.json()


async def refused_within(http: aiohttp.ClientSession, api_url: str, access_tokens: list[str], seconds: float) -> float:
    """Seconds until the resource service refuses every token as revoked (fails after ``seconds``)."""
    started = time.monotonic()
    while True:
        answers = [await whoami(http, api_url, token) for token in access_tokens]
        if all(answer == (401, {"error": "invalid_token", "error_description": "token revoked"}) for answer in answers):
            return time.monotonic() - started
        assert time.monotonic() - started < seconds, f"still not refused after {seconds} s: {answers}"
        await asyncio.sleep(0.1)


async def family_state(pool, refresh_token: str) -> tuple[int, list[str]]:
    """(live refresh tokens of the grant, access-token jtis still pending for the denylist)."""
    family_id = await pool.fetchval("SELECT family_id FROM refresh_tokens WHERE token_hash = $1",
                                    sha256_hex(refresh_token))
    live = await pool.fetchval("SELECT count(*) FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NULL",
                               family_id)
    pending = await pool.fetch(
        """SELECT p.jti FROM pending_revocations p JOIN refresh_tokens t ON t.access_jti = p.jti
           WHERE t.family_id = $1 ORDER BY p.jti""", family_id)
    return live, [r["jti"] for r in pending]


@dataclasses.dataclass
class Stack:
    """Token and resource services on a private Redis the test kills and restarts."""

    server: Any  # tests.support.restartable's private redis-server
    settings: Settings
    http: Any  # the token service's test client
    api_url: str
    to_api: aiohttp.ClientSession
    issued: IssuedCode  # a code saved in that Redis


@contextlib.asynccontextmanager
async def on_a_private_redis(settings, app_client, user) -> AsyncIterator[Stack]:
    with private_redis() as server:
        moved = dataclasses.replace(settings, redis_url=server.url, revocation_retry=RETRY_SECONDS)
        writer = Redis.from_url(server.url)
        try:
            issued = await issue_code(writer, moved, app_client, user)
        finally:
            await writer.aclose()
        async with running(moved) as http, \
                resource_service(moved, str(http.make_url("/jwks")), check_revocation=True) as api, \
                aiohttp.ClientSession() as to_api:
            yield Stack(server, moved, http, api.url, to_api, issued)


async def test_a_reuse_detected_while_redis_is_down_is_denylisted_once_redis_is_back(settings, pool, app_client,
                                                                                      user):
    async with on_a_private_redis(settings, app_client, user) as stack:
        http, to_api, api_url = stack.http, stack.to_api, stack.api_url
        first = await (await exchange(http, app_client, stack.issued)).json()
        refreshed = await (await refresh(http, app_client, first["refresh_token"])).json()
        assert (await whoami(to_api, api_url, refreshed["access_token"]))[0] == 200

        stack.server.kill()
        reuse = await refresh(http, app_client, first["refresh_token"])
        assert reuse.status == 503 and await error_of(reuse) == "temporarily_unavailable"
        live, pending = await family_state(pool, first["refresh_token"])
        assert live == 0 and len(pending) == 2  # revoked, and what it owes the denylist recorded
        assert (await whoami(to_api, api_url, refreshed["access_token"]))[0] == 503  # fails closed

        stack.server.start()  # empty: this Redis persists nothing, so only the pending rows remember
        await refused_within(to_api, api_url, [first["access_token"], refreshed["access_token"]], BOUND_SECONDS)
        # The task deletes the rows just after the denylist write the resource service sees.
        deadline = time.monotonic() + 2
        while (state := await family_state(pool, first["refresh_token"])) != (0, []):
            assert time.monotonic() < deadline, f"pending rows left after the write: {state}"
            await asyncio.sleep(0.05)
        again = await refresh(http, app_client, first["refresh_token"])
        assert again.status == 400 and await error_of(again) == "invalid_grant"


@pytest.mark.parametrize("operation", ["user delete", "user disable", "client delete"])
async def test_a_management_cut_off_that_could_not_reach_redis_takes_effect_once_redis_is_back(
        settings, pool, app_client, user, operation):
    """CONTRACT: a delete or disable takes effect within 5 seconds. One made while Redis is down
    commits, says Redis failed, and cannot be run again (a deleted record is gone); the cut-off
    it recorded in its transaction is written by the token service once Redis answers."""
    async with on_a_private_redis(settings, app_client, user) as stack:
        tokens = await (await exchange(stack.http, app_client, stack.issued)).json()
        assert (await whoami(stack.to_api, stack.api_url, tokens["access_token"]))[0] == 200

        stack.server.kill()
        redis = Redis.from_url(stack.settings.redis_url)
        try:
            backends = Backends(pool, redis, stack.settings)
            with pytest.raises(STORE_ERRORS):
                if operation == "user delete":
                    await users.delete(backends, user.username)
                elif operation == "user disable":
                    await users.set_disabled(backends, user.username, True)
                else:
                    await clients.delete(backends, app_client.client_id)
        finally:
            await redis.aclose()
        assert await pool.fetchval("SELECT count(*) FROM pending_cutoffs WHERE subject = $1 OR client_id = $2",
                                   str(user.id), app_client.client_id) == 1

        stack.server.start()  # empty: only the recorded cut-off remembers
        await refused_within(stack.to_api, stack.api_url, [tokens["access_token"]], BOUND_SECONDS)
        deadline = time.monotonic() + 2
        while await pool.fetchval("SELECT count(*) FROM pending_cutoffs WHERE subject = $1 OR client_id = $2",
                                  str(user.id), app_client.client_id):
            assert time.monotonic() < deadline, "the cut-off is still pending after its write"
            await asyncio.sleep(0.05)
