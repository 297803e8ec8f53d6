"""Pending revocations: denylist entries a revoked grant still owes Redis, written and forgotten."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from services.token.pending_revocations import write_pending
from shared.stores.pg_pending_revocations import PgPendingRevocations
from shared.stores.redis_denylist import RedisDenylist


async def record(pool, *entries: tuple[str, datetime]) -> None:
    await pool.executemany("INSERT INTO pending_revocations (jti, expires_at) VALUES ($1, $2)", entries)


async def pending_jtis(pool, jtis: list[str]) -> list[str]:
    rows = await pool.fetch("SELECT jti FROM pending_revocations WHERE jti = ANY($1::text[]) ORDER BY jti", jtis)
    return [r["jti"] for r in rows]


async def test_expired_entries_are_dropped_and_live_ones_stay_due(pool):
    now = datetime.now(UTC)
    live, in_leeway, gone = (f"jti-{name}-{secrets.token_hex(4)}" for name in ("live", "leeway", "gone"))
    await record(pool, (live, now + timedelta(minutes=5)), (in_leeway, now - timedelta(seconds=10)),
                 (gone, now - timedelta(seconds=40)))
    due = await PgPendingRevocations(pool, leeway=30).due(10_000)
    assert {live, in_leeway} <= {jti for jti, _ in due} and gone not in {jti for jti, _ in due}
    assert await pending_jtis(pool, [live, in_leeway, gone]) == sorted([live, in_leeway])  # the expired row is deleted


async def test_writing_pending_entries_denylists_them_and_forgets_them(pool, redis, prefix):
    now = datetime.now(UTC)
    jtis = [f"jti-{i}-{secrets.token_hex(4)}" for i in range(3)]
    await record(pool, *((jti, now + timedelta(minutes=5)) for jti in jtis))
    denylist = RedisDenylist(redis, prefix, leeway=30)

    assert (await write_pending(PgPendingRevocations(pool, leeway=30), denylist)).written >= 3
    assert [await denylist.contains(jti) for jti in jtis] == [True, True, True]
    assert await pending_jtis(pool, jtis) == []
