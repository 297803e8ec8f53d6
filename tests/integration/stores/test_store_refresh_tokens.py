"""PgRefreshTokens: stored by hash, rotated atomically, revoked per family (RFC 9700 §4.14.2)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.crypto.digests import new_secret, sha256_hex
from shared.db import create_pool
from shared.models import NewRefreshToken, RefreshRotation
from shared.stores.pg_refresh_tokens import _ROTATE, PgRefreshTokens
from tests.support.databases import fresh_database
from tests.support.factories import make_client, make_user
from tests.support.typed import present


@dataclasses.dataclass(frozen=True)
class Grant:
    client_id: str
    user_id: uuid.UUID
    family_id: uuid.UUID


@pytest.fixture
async def grant(pool, settings) -> Grant:
    user, client = await make_user(pool, settings), await make_client(pool)
    return Grant(client.client_id, user.id, uuid.uuid4())


def new_token(grant: Grant, *, jti: str | None = None) -> tuple[str, NewRefreshToken]:
    raw, now = new_secret(), datetime.now(UTC)
    return raw, NewRefreshToken(
        token_hash=sha256_hex(raw), family_id=grant.family_id, client_id=grant.client_id, user_id=grant.user_id,
        scope=("openid", "offline_access"), resource="https://api.example", auth_time=now,
        expires_at=now + timedelta(days=7), family_expires_at=now + timedelta(days=30),
        access_jti=jti or new_secret(16), access_expires_at=now + timedelta(minutes=10),
    )


async def _family_size(pool, grant: Grant) -> int:
    value: int = await pool.fetchval("SELECT count(*) FROM refresh_tokens WHERE family_id = $1", grant.family_id)
    return value


async def test_issue_then_find_by_hash(pool, grant):
    raw, new = new_token(grant)
    token_id = await PgRefreshTokens(pool).issue(new)
    found = present(await PgRefreshTokens(pool).find(sha256_hex(raw)))
    assert (found.id, found.family_id, found.client_id, found.user_id) == (token_id, grant.family_id,
                                                                          grant.client_id, grant.user_id)
    assert found.scope == ("openid", "offline_access")
    assert (found.parent_id, found.used_at, found.revoked_at) == (None, None, None)
    assert await pool.fetchval("SELECT count(*) FROM refresh_tokens WHERE token_hash = $1", raw) == 0


async def test_no_token_is_issued_for_a_disabled_or_deleted_user(pool, grant):
    await pool.execute("UPDATE users SET disabled = true WHERE id = $1", grant.user_id)
    assert await PgRefreshTokens(pool).issue(new_token(grant)[1]) is None
    await pool.execute("DELETE FROM users WHERE id = $1", grant.user_id)
    assert await PgRefreshTokens(pool).issue(new_token(grant)[1]) is None
    assert await _family_size(pool, grant) == 0


async def test_unknown_hash_is_none(pool):
    assert await PgRefreshTokens(pool).find(sha256_hex("never issued")) is None


async def rotate(tokens: PgRefreshTokens, presented: str, grant: Grant, *, grace: int = 0,
                 jti: str | None = None) -> str | None:
    """A refresh as the grant makes it; the successor's raw value, or None when nothing matched."""
    successor, now = new_secret(), datetime.now(UTC)
    rotated = await tokens.rotate_by_hash(RefreshRotation(
        token_hash=sha256_hex(presented), client_id=grant.client_id, new_token_hash=sha256_hex(successor),
        idle_seconds=86400, grace_seconds=grace, access_jti=jti or new_secret(16),
        access_expires_at=now + timedelta(minutes=10)))
    return successor if rotated is not None else None


async def _live(pool, grant: Grant) -> int:
    value: int = await pool.fetchval("SELECT count(*) FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NULL "
                                     "AND used_at IS NULL", grant.family_id)
    return value


async def test_rotate_marks_the_old_token_used_and_links_the_child(pool, grant):
    tokens = PgRefreshTokens(pool)
    old_raw, old = new_token(grant)
    old_id = await tokens.issue(old)
    child_raw = present(await rotate(tokens, old_raw, grant))
    assert present(await tokens.find(sha256_hex(old_raw))).used_at is not None
    successor = present(await tokens.find(sha256_hex(child_raw)))
    assert (successor.parent_id, successor.family_id, successor.used_at) == (old_id, grant.family_id, None)


@pytest.mark.parametrize("spoil", ["used", "revoked"])
async def test_a_spent_token_cannot_rotate(pool, grant, spoil):
    tokens = PgRefreshTokens(pool)
    old_raw, old = new_token(grant)
    await tokens.issue(old)
    if spoil == "used":
        assert await rotate(tokens, old_raw, grant) is not None
    else:
        await tokens.revoke_family(grant.family_id)
    size = await _family_size(pool, grant)
    assert await rotate(tokens, old_raw, grant) is None
    assert await _family_size(pool, grant) == size


@pytest.mark.parametrize("grace", [0, 30], ids=["no grace", "grace"])
async def test_ten_concurrent_rotations_leave_one_live_token(pool, grant, grace):
    tokens = PgRefreshTokens(pool)
    old_raw, old = new_token(grant)
    await tokens.issue(old)
    results = await asyncio.gather(*(rotate(tokens, old_raw, grant, grace=grace) for _ in range(10)))
    if grace == 0:
        assert sum(r is not None for r in results) == 1
        assert await _family_size(pool, grant) == 2
    assert await _live(pool, grant) == 1  # with grace each retry replaces the child before it


async def test_within_the_grace_period_a_used_token_rotates_again(pool, grant):
    tokens = PgRefreshTokens(pool)
    old_raw, old = new_token(grant)
    old_id = await tokens.issue(old)
    first = await rotate(tokens, old_raw, grant, grace=30)
    second = await rotate(tokens, old_raw, grant, grace=30)
    assert first and second
    assert present(await tokens.find(sha256_hex(first))).revoked_at is not None  # the lost response's token
    # Once the grace period is over, the used token is dead.
    await pool.execute("UPDATE refresh_tokens SET used_at = now() - interval '31 seconds' WHERE id = $1", old_id)
    assert await rotate(tokens, old_raw, grant, grace=30) is None
    assert await _family_size(pool, grant) == 3


async def test_no_grace_retry_once_the_successor_was_used(pool, grant):
    """The client had the response: a parent coming back now is a copy, not a lost response."""
    tokens = PgRefreshTokens(pool)
    old_raw, old = new_token(grant)
    await tokens.issue(old)
    child = present(await rotate(tokens, old_raw, grant, grace=30))
    assert await rotate(tokens, child, grant, grace=30) is not None
    assert await rotate(tokens, old_raw, grant, grace=30) is None
    assert await tokens.successor_used(sha256_hex(old_raw)) is True
    assert await tokens.successor_used(sha256_hex(child)) is False


async def test_within_grace_a_parent_racing_its_childs_use_gets_nothing(pool, grant):
    """A copy of the parent presented while the real client refreshes with the child: once the
    child's use commits, the parent is no lost response but a copy, and must not rotate."""
    tokens = PgRefreshTokens(pool)
    parent, first = new_token(grant)
    await tokens.issue(first)
    child = present(await rotate(tokens, parent, grant, grace=30))
    using_child = await pool.acquire()
    try:
        transaction = using_child.transaction()
        await transaction.start()
        assert await rotate(PgRefreshTokens(using_child), child, grant, grace=30) is not None
        copy = asyncio.create_task(rotate(tokens, parent, grant, grace=30))
        await asyncio.sleep(0.3)  # the copy waits for the child's row
        await transaction.commit()
        assert await asyncio.wait_for(copy, timeout=10) is None
    finally:
        await pool.release(using_child)
    assert await _live(pool, grant) == 1  # the real client's token only


async def test_revoke_family_revokes_every_token_and_returns_live_jtis(pool, grant):
    tokens = PgRefreshTokens(pool)
    first_raw, first = new_token(grant, jti="jti-1")
    await tokens.issue(first)
    await rotate(tokens, first_raw, grant, jti="jti-2")
    other = Grant(grant.client_id, grant.user_id, uuid.uuid4())
    other_raw, other_new = new_token(other, jti="jti-other")
    await tokens.issue(other_new)

    revoked = await tokens.revoke_family(grant.family_id)
    assert sorted(jti for jti, _ in revoked) == ["jti-1", "jti-2"]
    assert all(expires > datetime.now(UTC) for _, expires in revoked)
    assert await pool.fetchval("SELECT count(*) FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NULL",
                               grant.family_id) == 0
    assert present(await tokens.find(sha256_hex(other_raw))).revoked_at is None
    # Again (a retry after a failed denylist write): the same tokens, so the retry finishes the job.
    assert sorted(await tokens.revoke_family(grant.family_id)) == sorted(revoked)


async def test_revoke_family_records_what_it_owes_the_denylist_until_denylisted(pool, grant):
    tokens = PgRefreshTokens(pool)
    first_raw, first = new_token(grant, jti="jti-a")
    await tokens.issue(first)
    replayed = ("jti-replayed", datetime.now(UTC) + timedelta(minutes=5))
    expired = ("jti-expired", datetime.now(UTC) - timedelta(minutes=5))

    revoked = await tokens.revoke_family(grant.family_id, [replayed, expired])
    assert sorted(jti for jti, _ in revoked) == ["jti-a", "jti-replayed"]  # an expired token needs no entry
    assert await _pending(pool) >= {"jti-a", "jti-replayed"}
    await tokens.denylisted(["jti-a", "jti-replayed"])
    assert not await _pending(pool) & {"jti-a", "jti-replayed", "jti-expired"}


async def _pending(pool) -> set[str]:
    return {r["jti"] for r in await pool.fetch("SELECT jti FROM pending_revocations")}


async def test_a_rotation_racing_the_family_revocation_leaves_no_live_child(pool, grant):
    tokens = PgRefreshTokens(pool)
    old_raw, old = new_token(grant, jti="jti-old")
    await tokens.issue(old)
    rotating = await pool.acquire()
    try:
        # The rotation is mid-transaction when the revocation starts, and commits after it.
        transaction = rotating.transaction()
        await transaction.start()
        assert await rotate(PgRefreshTokens(rotating), old_raw, grant, jti="jti-child") is not None
        revocation = asyncio.create_task(tokens.revoke_family(grant.family_id))
        await asyncio.sleep(0.2)
        await transaction.commit()
        revoked = await asyncio.wait_for(revocation, timeout=10)
    finally:
        await pool.release(rotating)
    assert sorted(jti for jti, _ in revoked) == ["jti-child", "jti-old"]
    assert await pool.fetchval("SELECT count(*) FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NULL",
                               grant.family_id) == 0


def _rows_examined(node: dict[str, Any]) -> int:
    """Rows each scan of an EXPLAIN ANALYZE plan read: returned plus removed by its filter."""
    own = 0
    if "Scan" in node["Node Type"] and node["Node Type"] != "CTE Scan":
        own = (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]
    return own + sum(_rows_examined(child) for child in node.get("Plans", ()))


@pytest.mark.parametrize("grace", [0, 30])
async def test_a_rotation_reads_a_handful_of_rows_in_a_table_never_analyzed(server_urls, settings, grace):
    """With no statistics (a new table, or one after pg_upgrade) the partial indexes on client_id
    and user_id looked as selective as the token's hash: each refresh scanned every live token
    of its client, and one of 3,000 took three times as long (issue 9)."""
    async with fresh_database(server_urls[0]) as url:
        pool = await create_pool(dataclasses.replace(settings, database_url=url))
        try:
            user, client = await make_user(pool, settings), await make_client(pool)
            grant = Grant(client.client_id, user.id, uuid.uuid4())
            await pool.execute(
                """INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, scope, auth_time,
                                               expires_at, family_expires_at)
                   SELECT md5(i::text), $1, $2, $3, '{openid}', now(), now() + interval '1 day',
                          now() + interval '30 days' FROM generate_series(1, 3000) i""",
                grant.family_id, grant.client_id, grant.user_id)
            raw, new = new_token(grant)
            await PgRefreshTokens(pool).issue(new)
            assert await pool.fetchval("SELECT reltuples FROM pg_class WHERE relname = 'refresh_tokens'") < 0
            async with pool.acquire() as conn, conn.transaction():
                args = (sha256_hex(raw), grant.client_id, float(grace), None, None, "https://api.example",
                        sha256_hex(new_secret()), 86400.0, new_secret(16), datetime.now(UTC) + timedelta(minutes=5))
                plan = json.loads(await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {_ROTATE}", *args))
                await conn.execute("ROLLBACK")  # only the plan was wanted
        finally:
            await pool.close()
    assert plan[0]["Plan"]["Actual Rows"] == 1  # the rotation happened
    assert _rows_examined(plan[0]["Plan"]) <= 10
