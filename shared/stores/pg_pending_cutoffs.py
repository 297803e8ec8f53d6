"""Revoked-before markers a management operation still owes Redis (table pending_cutoffs).

A user or client disabled or deleted, or a consent revoked, refuses every access token of the
subject, client or pair issued until then (``RedisDenylist.cut_off``). The operation records the
cut-off in its own transaction and forgets it once Redis has it and the sessions it ends are
ended (shared.management.cutoffs); what is left (Redis was down, the process died in between)
is finished by the token service's background task (services/token/pending_revocations.py),
like the jtis of shared.stores.pg_pending_revocations.

A row is worked on by one holder at a time, under a lease (``claimed_until``): the operation
holds it from its transaction until it is done, the task claims rows before it works on them,
and each gives its lease back when it fails. A holder that died leaves a lease that ends by
itself after LEASE_SECONDS.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from shared.models import Cutoff

# Longer than carrying a cut-off out can take (a few Redis and PostgreSQL round trips, each
# bounded by the clients' 5 s timeouts): only a holder that died leaves a lease to run out.
LEASE_SECONDS = 60


def _row(cutoff: Cutoff) -> tuple[str, str, int, datetime]:
    return cutoff.subject or "", cutoff.client_id or "", cutoff.before_ms, cutoff.expires_at


class PgPendingCutoffs:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = db

    async def record(self, cutoff: Cutoff, lease: float = LEASE_SECONDS) -> None:
        """In the operation's transaction, leased to it; a later cut-off of the same subject and
        client wins. A claim skips the row while this transaction locks it, and its lease after."""
        await self._db.execute(
            """INSERT INTO pending_cutoffs (subject, client_id, before_ms, expires_at, reason, claimed_until)
               VALUES ($1, $2, $3, $4, $5, clock_timestamp() + make_interval(secs => $6))
               ON CONFLICT (subject, client_id) DO UPDATE
               SET before_ms = greatest(pending_cutoffs.before_ms, excluded.before_ms),
                   expires_at = greatest(pending_cutoffs.expires_at, excluded.expires_at),
                   reason = excluded.reason, claimed_until = excluded.claimed_until""",
            *_row(cutoff), cutoff.reason, float(lease))

    async def claim(self, limit: int, lease: float = LEASE_SECONDS) -> list[Cutoff]:
        """Up to ``limit`` cut-offs nobody holds, leased to the caller; drops expired ones on the
        way (one round trip). Rows another holder is claiming at this moment are skipped."""
        rows = await self._db.fetch(
            """WITH expired AS (DELETE FROM pending_cutoffs WHERE expires_at <= now()),
                    free AS (SELECT subject, client_id FROM pending_cutoffs
                             WHERE expires_at > now() AND (claimed_until IS NULL OR claimed_until < clock_timestamp())
                             ORDER BY subject, client_id LIMIT $1 FOR UPDATE SKIP LOCKED)
               UPDATE pending_cutoffs p SET claimed_until = clock_timestamp() + make_interval(secs => $2)
               FROM free WHERE p.subject = free.subject AND p.client_id = free.client_id
               RETURNING p.subject, p.client_id, p.before_ms, p.expires_at, p.reason""", limit, float(lease))
        return sorted((Cutoff(r["subject"] or None, r["client_id"] or None, r["before_ms"], r["expires_at"],
                              r["reason"]) for r in rows), key=lambda c: (c.subject or "", c.client_id or ""))

    async def release(self, cutoffs: Sequence[Cutoff]) -> None:
        """Gives the leases back (the holder failed): the next claim may take them at once."""
        if cutoffs:
            await self._db.execute(
                """UPDATE pending_cutoffs p SET claimed_until = NULL
                   FROM unnest($1::text[], $2::text[]) AS r(s, c) WHERE p.subject = r.s AND p.client_id = r.c""",
                [c.subject or "" for c in cutoffs], [c.client_id or "" for c in cutoffs])

    async def clamp(self, *, subject: str | None, client_id: str | None, before_ms: int) -> None:
        """In an enable's transaction: a cut-off still pending refuses nothing issued after it,
        and ends no session begun after it (shared.management.cutoffs)."""
        await self._db.execute(
            "UPDATE pending_cutoffs SET before_ms = least(before_ms, $3) WHERE subject = $1 AND client_id = $2",
            subject or "", client_id or "", before_ms)

    async def written(self, cutoffs: Sequence[Cutoff]) -> None:
        """These are in Redis now; a later cut-off recorded meanwhile (a greater before_ms) stays."""
        if cutoffs:
            rows = [_row(c) for c in cutoffs]
            await self._db.execute(
                """DELETE FROM pending_cutoffs p USING unnest($1::text[], $2::text[], $3::bigint[]) AS w(s, c, b)
                   WHERE p.subject = w.s AND p.client_id = w.c AND p.before_ms <= w.b""",
                [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
