"""A code used twice (RFC 6749 §4.1.2, §10.5): refused, and everything issued from it revoked,
access tokens through the jti denylist and refresh tokens in PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt

from shared.crypto.digests import new_secret, sha256_hex
from shared.models import CodeUse, NewRefreshToken
from shared.stores.pg_refresh_tokens import PgRefreshTokens
from shared.stores.redis_codes import RedisCodeStore
from shared.stores.redis_denylist import RedisDenylist
from tests.integration.token.helpers import error_of, exchange, issue_code, refresh
from tests.support.access_lines import access_lines


def jti(token: str) -> str:
    value: str = jwt.decode(token, options={"verify_signature": False})["jti"]
    return value


async def revoked_at(pool, refresh_token: str):
    return await pool.fetchval("SELECT revoked_at FROM refresh_tokens WHERE token_hash = $1", sha256_hex(refresh_token))


async def test_a_replayed_code_is_invalid_grant_and_kills_the_first_exchange(http, redis, settings, pool, app_client,
                                                                             user):
    issued = await issue_code(redis, settings, app_client, user)
    first = await (await exchange(http, app_client, issued)).json()
    replay = await exchange(http, app_client, issued)
    assert replay.status == 400 and await error_of(replay) == "invalid_grant"
    assert await RedisDenylist(redis, settings.redis_prefix).contains(jti(first["access_token"]))
    assert await revoked_at(pool, first["refresh_token"]) is not None
    after = await refresh(http, app_client, first["refresh_token"])
    assert after.status == 400 and await error_of(after) == "invalid_grant"


async def test_the_access_line_says_replayed_or_unknown_where_the_client_reads_invalid_grant(
        http, redis, settings, app_client, user, caplog):
    """An operator tells a replay (worth paging someone for) from a stale code in the log."""
    caplog.set_level(logging.INFO, "latchkey.access")
    issued = await issue_code(redis, settings, app_client, user)
    await exchange(http, app_client, issued)
    replay = await exchange(http, app_client, issued)
    unknown = await exchange(http, app_client, dataclasses.replace(issued, code=new_secret(32)))
    for response, reason in ((replay, "code_replayed"), (unknown, "unknown_code")):
        assert response.status == 400 and await error_of(response) == "invalid_grant"
        request_id = response.headers["X-Request-Id"]
        lines = await access_lines(caplog, request_id)
        assert len(lines) == 1 and f"error=invalid_grant reason={reason}" in lines[0], lines


async def test_a_replay_also_kills_tokens_refreshed_since(http, redis, settings, pool, app_client, user):
    issued = await issue_code(redis, settings, app_client, user)
    first = await (await exchange(http, app_client, issued)).json()
    refreshed = await (await refresh(http, app_client, first["refresh_token"])).json()
    await exchange(http, app_client, issued)
    denylist = RedisDenylist(redis, settings.redis_prefix)
    assert await denylist.contains(jti(refreshed["access_token"]))
    assert await revoked_at(pool, refreshed["refresh_token"]) is not None


async def test_the_denylist_entry_lives_as_long_as_a_verifier_accepts_the_token(http, redis, settings, app_client,
                                                                                user):
    issued = await issue_code(redis, settings, app_client, user, scope="notes:read")
    first = await (await exchange(http, app_client, issued)).json()
    await exchange(http, app_client, issued)
    ttl = await redis.ttl(f"{settings.redis_prefix}revoked-jti:{jti(first['access_token'])}")
    # A verifier accepts the token until exp + the clock leeway, so the entry outlives it by that.
    lifetime = settings.access_token_ttl + settings.clock_leeway
    assert lifetime - 5 <= ttl <= lifetime + 2


async def test_a_replay_by_another_client_still_revokes(http, redis, settings, pool, app_client, other_client, user):
    issued = await issue_code(redis, settings, app_client, user)
    first = await (await exchange(http, app_client, issued)).json()
    assert (await exchange(http, other_client, issued)).status == 400
    assert await revoked_at(pool, first["refresh_token"]) is not None


async def test_a_replay_is_audited_without_the_code(http, redis, settings, pool, app_client, user):
    issued = await issue_code(redis, settings, app_client, user)
    await exchange(http, app_client, issued)
    await exchange(http, app_client, issued)
    row = await pool.fetchrow("SELECT * FROM audit_events"
                              " WHERE event_type = 'code_replay' AND details->>'grant_id' = $1",
                              issued.grant.grant_id)
    assert row is not None and row["client_id"] == app_client.client_id
    assert issued.code not in str(dict(row)) and sha256_hex(issued.code) not in str(dict(row))


async def test_twenty_concurrent_redemptions_give_exactly_one_token(start_token_app, redis, settings, pool, app_client,
                                                                    user):
    # All 20 at once, none shed (the load limit would answer some 503): the race is what is tested.
    async with start_token_app(token_issue_deadline=1, max_concurrent_requests=20,
                               min_concurrent_requests=20) as http:
        issued = await issue_code(redis, settings, app_client, user)
        responses = await asyncio.gather(*(exchange(http, app_client, issued) for _ in range(20)))
        statuses = sorted(r.status for r in responses)
        assert statuses == [200] + [400] * 19
        assert {await error_of(r) for r in responses if r.status == 400} == {"invalid_grant"}
        winner = await next(r for r in responses if r.status == 200).json()
        # The replays revoke the winner's grant too, even if they ran before its refresh token was stored.
        deadline = time.monotonic() + 5
        while await revoked_at(pool, winner["refresh_token"]) is None and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert await revoked_at(pool, winner["refresh_token"]) is not None


async def test_a_refresh_token_stored_after_the_replay_is_swept_later(start_token_app, redis, settings, pool,
                                                                      app_client, user):
    """The first exchange can be slow between consuming the code and storing its refresh token:
    the replay sweeps the grant again once that exchange's deadline has passed."""
    async with start_token_app(token_issue_deadline=1) as http:
        issued = await issue_code(redis, settings, app_client, user)
        use = CodeUse(grant_id="", access_jti="slow-first-exchange",
                      access_expires_at=int(time.time()) + settings.access_token_ttl)
        assert await RedisCodeStore(redis, settings.redis_prefix).consume(issued.code, use, settings.code_replay_window)
        assert (await exchange(http, app_client, issued)).status == 400
        late = new_secret()
        now = datetime.now(UTC)
        await PgRefreshTokens(pool).issue(NewRefreshToken(
            token_hash=sha256_hex(late), family_id=uuid.UUID(issued.grant.grant_id), client_id=app_client.client_id,
            user_id=user.id, scope=issued.grant.scope, resource=None, auth_time=now,
            expires_at=now + timedelta(days=1), family_expires_at=now + timedelta(days=30)))
        assert await revoked_at(pool, late) is None
        await asyncio.sleep(2.5)
        assert await revoked_at(pool, late) is not None
        assert await RedisDenylist(redis, settings.redis_prefix).contains("slow-first-exchange")


async def test_an_exchange_still_waiting_for_its_redemption_at_the_deadline_issues_nothing(
        start_token_app, redis, settings, pool, app_client, user):
    """PostgreSQL is slow to make the redemption durable (another transaction holds the same code's
    row): at LATCHKEY_TOKEN_ISSUE_DEADLINE_SECONDS the exchange gives up, since a replay may sweep
    the grant from then on. 503 at the deadline, nothing signed, and the code is spent."""
    async with start_token_app(token_issue_deadline=1) as http:
        issued = await issue_code(redis, settings, app_client, user)
        async with pool.acquire() as blocker:
            transaction = blocker.transaction()
            await transaction.start()
            await blocker.execute(
                "INSERT INTO code_redemptions (code_hash, grant_id, client_id, access_jti, access_expires_at,"
                " expires_at) VALUES ($1, $2, $3, 'blocker', now(), now() + interval '1 minute')",
                sha256_hex(issued.code), issued.grant.grant_id, app_client.client_id)
            started = time.monotonic()
            try:
                late = await asyncio.wait_for(exchange(http, app_client, issued), 5)
            finally:
                await transaction.rollback()
        assert time.monotonic() - started < 3, "answered at the deadline, not when PostgreSQL let go"
        assert late.status == 503 and await error_of(late) == "temporarily_unavailable"
        assert "access_token" not in await late.json()
        again = await exchange(http, app_client, issued)
        assert again.status == 400 and await error_of(again) == "invalid_grant"
