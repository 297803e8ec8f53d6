"""Pending revocations: denylist entries a revoked grant, and cut-offs a management operation,
still owe Redis, written and forgotten."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from services.token.pending_revocations import write_pending
from shared.bearer.revocation import revoked_before_key
from shared.models import Cutoff
from shared.stores.pg_pending_cutoffs import PgPendingCutoffs
from shared.stores.pg_pending_revocations import PgPendingRevocations
from shared.stores.redis_denylist import RedisDenylist


@pytest.fixture(autouse=True)
async def no_rows_left_behind(pool) -> AsyncIterator[None]:
    """These tests' cut-offs name made-up users ("user-..."): none may stay for another test's
    token service to carry out."""
    yield
    await pool.execute("DELETE FROM pending_cutoffs WHERE subject LIKE 'user-%'")


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


async def left_by_failed_operations(cutoffs: PgPendingCutoffs, *recorded: Cutoff) -> None:
    """Recorded, and their leases given back: what an operation whose Redis write failed leaves."""
    for cutoff in recorded:
        await cutoffs.record(cutoff)
    await cutoffs.release(recorded)


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
    await left_by_failed_operations(cutoffs, for_user, for_pair, expired)
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


async def test_a_cut_off_whose_sessions_could_not_be_ended_stays_pending_for_the_next_pass(pool, redis, prefix):
    user = f"user-{secrets.token_hex(4)}"
    cutoff = Cutoff.now(subject=user, client_id=None, margin=5, leeway=30, reason="user_disabled")
    cutoffs = PgPendingCutoffs(pool)
    await left_by_failed_operations(cutoffs, cutoff)
    with pytest.raises(ConnectionError):
        await write_pending(PgPendingRevocations(pool, leeway=30), RedisDenylist(redis, prefix, leeway=30), cutoffs,
                            SessionsEnded(failing=True))
    assert int(await redis.get(revoked_before_key(prefix, subject=user))) == cutoff.before_ms  # tokens refused
    row = await pool.fetchrow("SELECT reason, claimed_until FROM pending_cutoffs WHERE subject = $1", user)
    assert (row["reason"], row["claimed_until"]) == ("user_disabled", None)  # its lease given back


async def test_a_cut_off_its_operation_still_holds_is_left_to_it_until_its_lease_ends(pool, redis, prefix):
    """The operation is still carrying it out (its lease): written by the task as well, it could
    land after the operation finished and the user was enabled again, refusing new tokens."""
    user = f"user-{secrets.token_hex(4)}"
    cutoff = Cutoff.now(subject=user, client_id=None, margin=5, leeway=30, reason="user_disabled")
    cutoffs = PgPendingCutoffs(pool)
    await cutoffs.record(cutoff)  # leased to its operation
    ended = SessionsEnded()
    await write_pending(PgPendingRevocations(pool, leeway=30), RedisDenylist(redis, prefix, leeway=30), cutoffs, ended)
    assert await redis.get(revoked_before_key(prefix, subject=user)) is None
    assert [c for c in ended.cutoffs if c.subject == user] == []

    await cutoffs.record(cutoff, lease=0)  # its holder died: the lease runs out
    await write_pending(PgPendingRevocations(pool, leeway=30), RedisDenylist(redis, prefix, leeway=30), cutoffs, ended)
    assert int(await redis.get(revoked_before_key(prefix, subject=user))) == cutoff.before_ms
    assert [c for c in ended.cutoffs if c.subject == user] == [cutoff]


async def test_two_replicas_never_claim_the_same_cut_off(pool):
    subjects = [f"user-{secrets.token_hex(4)}" for _ in range(40)]
    cutoffs = PgPendingCutoffs(pool)
    await left_by_failed_operations(cutoffs, *(Cutoff.now(subject=s, client_id=None, margin=0, leeway=30)
                                               for s in subjects))
    first, second = await asyncio.gather(PgPendingCutoffs(pool).claim(25), PgPendingCutoffs(pool).claim(25))
    mine = set(subjects)
    one, two = ({c.subject for c in claimed} & mine for claimed in (first, second))
    assert not one & two
    left = {c.subject for c in await cutoffs.claim(500)} & mine
    assert one | two | left == mine and not left & (one | two)


async def test_an_enable_moves_a_pending_cut_off_back_to_its_own_moment(pool):
    subject = f"user-{secrets.token_hex(4)}"
    cutoff = Cutoff.now(subject=subject, client_id=None, margin=5, leeway=30, reason="user_disabled")
    cutoffs = PgPendingCutoffs(pool)
    await left_by_failed_operations(cutoffs, cutoff)
    await cutoffs.clamp(subject=subject, client_id=None, before_ms=cutoff.before_ms - 4000)
    assert await pool.fetchval("SELECT before_ms FROM pending_cutoffs WHERE subject = $1", subject) == (
        cutoff.before_ms - 4000)
    await cutoffs.clamp(subject=subject, client_id=None, before_ms=cutoff.before_ms)  # never later
    assert await pool.fetchval("SELECT before_ms FROM pending_cutoffs WHERE subject = $1", subject) == (
        cutoff.before_ms - 4000)


async def test_a_cut_off_recorded_again_meanwhile_stays_pending(pool):
    subject = f"user-{secrets.token_hex(4)}"
    first = Cutoff.now(subject=subject, client_id=None, margin=0, leeway=30)
    later = Cutoff(subject, None, first.before_ms + 1000, first.expires_at + timedelta(seconds=1))
    cutoffs = PgPendingCutoffs(pool)
    await cutoffs.record(first)
    await cutoffs.record(later)  # a second disable before the first was written
    await cutoffs.written([first])
    assert await pool.fetchval("SELECT before_ms FROM pending_cutoffs WHERE subject = $1", subject) == later.before_ms
