"""Revoked-before markers a management operation still owes Redis (table pending_cutoffs).

A user or client disabled or deleted, or a consent revoked, refuses every access token of the
subject, client or pair issued until then (``RedisDenylist.cut_off``). The operation records the
cut-off in its own transaction and forgets it once Redis has it and the sessions it ends are
ended (shared.management.cutoffs); what is left (Redis was down, the process died in between)
is finished by the token service's background task (services/token/pending_revocations.py),
like the jtis of shared.stores.pg_pending_revocations.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from shared.models import Cutoff


def _row(cutoff: Cutoff) -> tuple[str, str, int, datetime]:
    return cutoff.subject or "", cutoff.client_id or "", cutoff.before_ms, cutoff.expires_at


class PgPendingCutoffs:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = db

    async def record(self, cutoff: Cutoff) -> None:
        """In the operation's transaction; a later cut-off of the same subject and client wins."""
        await self._db.execute(
            """INSERT INTO pending_cutoffs (subject, client_id, before_ms, expires_at, reason)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (subject, client_id) DO UPDATE
               SET before_ms = greatest(pending_cutoffs.before_ms, excluded.before_ms),
                   expires_at = greatest(pending_cutoffs.expires_at, excluded.expires_at),
                   reason = excluded.reason""",
            *_row(cutoff), cutoff.reason)

    async def due(self, limit: int) -> list[Cutoff]:
        """Up to ``limit`` cut-offs still to write; drops expired ones on the way (one round trip)."""
        rows = await self._db.fetch(
            """WITH expired AS (DELETE FROM pending_cutoffs WHERE expires_at <= now())
               SELECT subject, client_id, before_ms, expires_at, reason FROM pending_cutoffs
               WHERE expires_at > now() ORDER BY subject, client_id LIMIT $1""", limit)
        return [Cutoff(r["subject"] or None, r["client_id"] or None, r["before_ms"], r["expires_at"], r["reason"])
                for r in rows]

    async def written(self, cutoffs: Sequence[Cutoff]) -> None:
        """These are in Redis now; a later cut-off recorded meanwhile (a greater before_ms) stays."""
        if cutoffs:
            rows = [_row(c) for c in cutoffs]
            await self._db.execute(
                """DELETE FROM pending_cutoffs p USING unnest($1::text[], $2::text[], $3::bigint[]) AS w(s, c, b)
                   WHERE p.subject = w.s AND p.client_id = w.c AND p.before_ms <= w.b""",
                [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
