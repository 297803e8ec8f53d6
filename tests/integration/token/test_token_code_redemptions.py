"""The durable record of each code exchange: what it holds, when it goes, and that no token
leaves the server before it is written (RFC 6749 §4.1.2)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from shared.crypto.digests import new_secret, sha256_hex
from tests.integration.token.helpers import error_of, exchange, issue_code


async def redemption(pool, code: str):
    return await pool.fetchrow("SELECT * FROM code_redemptions WHERE code_hash = $1", sha256_hex(code))


@pytest.mark.parametrize("scope", ["openid offline_access notes:read", "openid notes:read"],
                         ids=["with a refresh token", "without a refresh token"])
async def test_an_exchange_records_its_redemption(http, redis, settings, pool, app_client, user, scope):
    issued = await issue_code(redis, settings, app_client, user, scope=scope)
    response = await exchange(http, app_client, issued)
    assert response.status == 200
    access = jwt.decode((await response.json())["access_token"], options={"verify_signature": False})
    row = await redemption(pool, issued.code)
    assert row["grant_id"] == issued.grant.grant_id and row["client_id"] == app_client.client_id
    assert row["access_jti"] == access["jti"] and int(row["access_expires_at"].timestamp()) == access["exp"]
    kept = row["expires_at"].timestamp() - time.time()
    assert settings.code_replay_window - 5 <= kept <= settings.code_replay_window + 1
    assert issued.code not in str(dict(row))


async def test_a_disabled_users_code_is_spent_without_tokens(http, redis, settings, pool, app_client, user):
    issued = await issue_code(redis, settings, app_client, user)
    await pool.execute("UPDATE users SET disabled = true WHERE id = $1", user.id)
    response = await exchange(http, app_client, issued)
    assert response.status == 400 and await error_of(response) == "invalid_grant"
    assert await redemption(pool, issued.code) is not None
    assert await pool.fetchval("SELECT count(*) FROM refresh_tokens WHERE family_id = $1::uuid",
                               issued.grant.grant_id) == 0


@pytest.mark.parametrize("scope", ["openid offline_access notes:read", "openid notes:read"],
                         ids=["with a refresh token", "without a refresh token"])
async def test_a_client_disabled_behind_a_warm_cache_gets_no_tokens(http, redis, settings, pool, app_client, user,
                                                                     scope):
    """The exchange asks PostgreSQL, not the replica's client cache, whether the client is enabled."""
    warm = await issue_code(redis, settings, app_client, user, scope=scope)
    assert (await exchange(http, app_client, warm)).status == 200  # the client is now cached
    issued = await issue_code(redis, settings, app_client, user, scope=scope)
    await pool.execute("UPDATE clients SET disabled = true WHERE client_id = $1", app_client.client_id)
    response = await exchange(http, app_client, issued)
    assert response.status == 400 and await error_of(response) == "invalid_grant"
    assert await pool.fetchval("SELECT count(*) FROM refresh_tokens WHERE family_id = $1::uuid",
                               issued.grant.grant_id) == 0


async def test_a_stalled_postgresql_is_503_and_nothing_is_issued(start_token_app, redis, settings, pool, app_client,
                                                                 user):
    """The redemption cannot be written within the issue deadline: no tokens (they are signed
    only after it), 503 temporarily_unavailable, and the code is spent (the README says: start
    the flow again). The statement, shared with other exchanges, still completes once
    PostgreSQL moves; the refresh token it stored was never handed out, and a replay revokes it."""
    async with start_token_app(token_issue_deadline=1) as http:
        issued = await issue_code(redis, settings, app_client, user)
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("LOCK TABLE code_redemptions IN ACCESS EXCLUSIVE MODE")
            stalled = await exchange(http, app_client, issued)
        assert stalled.status == 503 and await error_of(stalled) == "temporarily_unavailable"
        assert "access_token" not in await stalled.json()
        deadline = time.monotonic() + 5
        while await redemption(pool, issued.code) is None:
            assert time.monotonic() < deadline, "the stalled statement never completed"
            await asyncio.sleep(0.05)
        again = await exchange(http, app_client, issued)
        assert again.status == 400 and await error_of(again) == "invalid_grant"
        stored = await pool.fetchrow("SELECT count(*) AS total, count(*) FILTER (WHERE revoked_at IS NULL) AS live "
                                     "FROM refresh_tokens WHERE family_id = $1::uuid", issued.grant.grant_id)
        assert (stored["total"], stored["live"]) == (1, 0)


async def test_the_sweep_deletes_redemptions_past_their_replay_window(start_token_app, pool):
    now = datetime.now(UTC)
    expired, live = sha256_hex(new_secret()), sha256_hex(new_secret())
    for code_hash, expires_at in ((expired, now - timedelta(seconds=1)), (live, now + timedelta(minutes=15))):
        await pool.execute(
            """INSERT INTO code_redemptions (code_hash, grant_id, client_id, access_jti, access_expires_at, expires_at)
               VALUES ($1, 'g', 'c', 'j', $2, $2)""", code_hash, expires_at)
    async with start_token_app(code_redemption_sweep_interval=1):
        deadline = time.monotonic() + 10
        while await pool.fetchval("SELECT count(*) FROM code_redemptions WHERE code_hash = $1", expired):
            assert time.monotonic() < deadline, "the expired redemption was not swept"
            await asyncio.sleep(0.2)
    assert await pool.fetchval("SELECT count(*) FROM code_redemptions WHERE code_hash = $1", live) == 1
