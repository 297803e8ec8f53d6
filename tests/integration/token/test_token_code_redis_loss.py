"""A code stays single-use when Redis loses writes (RFC 6749 §4.1.2, §10.5).

A private redis-server with an append-only file: the code is saved, the AOF is copied, the code
is exchanged, Redis is killed with SIGKILL and started again from the copy, so it has lost the
GETDEL and the used marker, as after a crash losing the AOF's last second or a failover to a
replica that had not seen them. The same code again must be refused, and what the first
exchange issued revoked: the redemption in PostgreSQL remembers what Redis forgot.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator

import jwt
import pytest
from aiohttp import ClientResponse

from shared.config import Settings
from shared.crypto.digests import sha256_hex
from shared.redis_client import create_redis
from shared.stores.redis_denylist import RedisDenylist
from tests.integration.token.helpers import IssuedCode, error_of, exchange, issue_code, refresh, running
from tests.support.durable_redis import DurableRedis, durable_redis
from tests.support.typed import AppClient


def jti(token: str) -> str:
    jti: str = jwt.decode(token, options={"verify_signature": False})["jti"]
    return jti


@pytest.fixture
def aof_redis() -> Iterator[DurableRedis]:
    with durable_redis() as server:
        yield server


@pytest.fixture
def lossy_settings(settings: Settings, aof_redis: DurableRedis) -> Settings:
    return dataclasses.replace(settings, redis_url=aof_redis.url)


@pytest.fixture
async def lossy_http(lossy_settings: Settings) -> AsyncIterator[AppClient]:
    async with running(lossy_settings) as http:
        yield http


async def saved_code(settings: Settings, client, user, **kwargs) -> IssuedCode:
    redis = create_redis(settings)
    try:
        return await issue_code(redis, settings, client, user, **kwargs)
    finally:
        await redis.aclose()


async def after_restart(http, client, issued: IssuedCode) -> ClientResponse:
    """The replayed exchange. Connections the app pooled before the crash are dead; a 503 for
    one of them spends nothing (the code is not reached), so the client tries again."""
    for _ in range(10):
        response = await exchange(http, client, issued)
        if response.status != 503:
            return response
        await asyncio.sleep(0.2)
    return response


async def denylisted(settings: Settings, access_token: str) -> bool:
    redis = create_redis(settings)
    try:
        return await RedisDenylist(redis, settings.redis_prefix).contains(jti(access_token))
    finally:
        await redis.aclose()


async def test_a_code_brought_back_by_a_lost_aof_write_is_refused_and_revokes(
        aof_redis, lossy_settings, lossy_http, pool, app_client, user):
    issued = await saved_code(lossy_settings, app_client, user)
    aof_redis.snapshot()
    first = await exchange(lossy_http, app_client, issued)
    assert first.status == 200
    tokens = await first.json()

    aof_redis.restart(restore=True)

    replay = await after_restart(lossy_http, app_client, issued)
    assert replay.status == 400 and await error_of(replay) == "invalid_grant"
    after = await refresh(lossy_http, app_client, tokens["refresh_token"])
    assert after.status == 400 and await error_of(after) == "invalid_grant"
    assert await denylisted(lossy_settings, tokens["access_token"])
    assert await pool.fetchval("SELECT revoked_at FROM refresh_tokens WHERE token_hash = $1",
                               sha256_hex(tokens["refresh_token"])) is not None
    assert await pool.fetchval("SELECT count(*) FROM audit_events WHERE event_type = 'code_replay' "
                               "AND details->>'grant_id' = $1", issued.grant.grant_id) == 1


async def test_a_replay_after_redis_lost_everything_still_revokes(aof_redis, lossy_settings, lossy_http, app_client,
                                                                  user):
    issued = await saved_code(lossy_settings, app_client, user)
    tokens = await (await exchange(lossy_http, app_client, issued)).json()

    aof_redis.restart(restore=False)  # neither the code nor its used marker survives

    replay = await after_restart(lossy_http, app_client, issued)
    assert replay.status == 400 and await error_of(replay) == "invalid_grant"
    assert (await refresh(lossy_http, app_client, tokens["refresh_token"])).status == 400
    assert await denylisted(lossy_settings, tokens["access_token"])


async def test_without_a_refresh_token_a_code_brought_back_is_refused_and_revokes(
        aof_redis, lossy_settings, lossy_http, pool, app_client, user):
    issued = await saved_code(lossy_settings, app_client, user, scope="openid notes:read")
    aof_redis.snapshot()
    first = await exchange(lossy_http, app_client, issued)
    assert first.status == 200
    tokens = await first.json()
    assert "refresh_token" not in tokens

    aof_redis.restart(restore=True)

    replay = await after_restart(lossy_http, app_client, issued)
    assert replay.status == 400 and await error_of(replay) == "invalid_grant"
    assert await denylisted(lossy_settings, tokens["access_token"])
