"""Pending revocations: denylist entries a revoked grant, and cut-offs a management operation,
still owe Redis, written and forgotten."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from services.token.pending_revocations import write_pending
from shared.bearer.revocation import revoked_before_key
from shared.models import Cutoff
from shared.stores.pg_pending_cutoffs import PgPendingCutoffs
from shared.stores.pg_pending_revocations import PgPendingRevocations
from shared.stores.redis_denylist import RedisDenylist


class SessionsEnded:
    """What the token service does after writing a cut-off (shared.management.cutoffs.end_sessions),
    recorded; ``failing``: it raises as Redis going away mid-pass would."""

    def __init__(self, failing: bool = False) -> None:
        self.cutoffs: list[Cutoff] = []
        self.failing = failing

    async def __call__(self, cutoff: Cutoff) -> None:
        if self.failing:
            raise ConnectionError("Redis went away")
        self.cutoffs.append(cutoff)


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

    done = await write_pending(PgPendingRevocations(pool, leeway=30), denylist, PgPendingCutoffs(pool), SessionsEnded())
    assert done.written >= 3
    assert [await denylist.contains(jti) for jti in jtis] == [True, True, True]
    assert await pending_jtis(pool, jtis) == []


async def test_writing_pending_cut_offs_sets_the_revoked_before_markers_and_forgets_them(pool, redis, prefix):
    """A user deleted while Redis was down: the cut-off recorded with the delete reaches Redis."""
    user, client = f"user-{secrets.token_hex(4)}", f"client-{secrets.token_hex(4)}"
    for_user = Cutoff.now(subject=user, client_id=None, margin=5, leeway=30, reason="user_deleted")
    for_pair = Cutoff.now(subject=user, client_id=client, margin=0, leeway=30, reason="consent_revoked")
    expired = Cutoff(f"user-{secrets.token_hex(4)}", None, 1, datetime.now(UTC) - timedelta(seconds=1))
    cutoffs = PgPendingCutoffs(pool)
    for cutoff in (for_user, for_pair, expired):
        await cutoffs.record(cutoff)
    denylist = RedisDenylist(redis, prefix, leeway=30)

    ended = SessionsEnded()
    await write_pending(PgPendingRevocations(pool, leeway=30), denylist, cutoffs, ended)
    assert int(await redis.get(revoked_before_key(prefix, subject=user))) == for_user.before_ms
    assert int(await redis.get(revoked_before_key(prefix, subject=user, client_id=client))) == for_pair.before_ms
    assert 0 < await redis.ttl(revoked_before_key(prefix, subject=user)) <= 86400 + 30 + 5 + 2  # + the margin
    left = await pool.fetch("SELECT subject FROM pending_cutoffs WHERE subject = ANY($1::text[])",
                            [user, expired.subject])
    assert left == []  # written ones forgotten, the expired one dropped
    # Their sessions ended, under the operation's name (the logout tokens' audited reason).
    assert [c for c in ended.cutoffs if c.subject == user] == [for_user, for_pair]


async def test_a_cut_off_whose_sessions_could_not_be_ended_stays_pending(pool, redis, prefix):
    user = f"user-{secrets.token_hex(4)}"
    cutoff = Cutoff.now(subject=user, client_id=None, margin=5, leeway=30, reason="user_disabled")
    cutoffs = PgPendingCutoffs(pool)
    await cutoffs.record(cutoff)
    with pytest.raises(ConnectionError):
        await write_pending(PgPendingRevocations(pool, leeway=30), RedisDenylist(redis, prefix, leeway=30), cutoffs,
                            SessionsEnded(failing=True))
    assert int(await redis.get(revoked_before_key(prefix, subject=user))) == cutoff.before_ms  # tokens refused
    assert await pool.fetchval("SELECT reason FROM pending_cutoffs WHERE subject = $1", user) == "user_disabled"


async def test_a_cut_off_recorded_again_meanwhile_stays_pending(pool):
    subject = f"user-{secrets.token_hex(4)}"
    first = Cutoff.now(subject=subject, client_id=None, margin=0, leeway=30)
    later = Cutoff(subject, None, first.before_ms + 1000, first.expires_at + timedelta(seconds=1))
    cutoffs = PgPendingCutoffs(pool)
    await cutoffs.record(first)
    await cutoffs.record(later)  # a second disable before the first was written
    await cutoffs.written([first])
    assert await pool.fetchval("SELECT before_ms FROM pending_cutoffs WHERE subject = $1", subject) == later.before_ms
