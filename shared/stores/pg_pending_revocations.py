"""Denylist entries a grant's revocation still owes Redis (table pending_revocations).

PgRefreshTokens.revoke_family records them in the statement that revokes the grant; whoever
writes them to the Redis denylist deletes them here. What is left (Redis was down, or the
process died in between) is written by the token service's background task
(services/token/pending_revocations.py). A row whose token has expired is dropped: no
verifier accepts that token any more, so it needs no entry. "Written" means as durable as
configured: with LATCHKEY_REVOCATION_REPLICAS, confirmed by that many Redis replicas (WAIT), so
a row outlives a write that a Redis failover could still lose.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg


class PgPendingRevocations:
    def __init__(self, pool: asyncpg.Pool | asyncpg.Connection, *, leeway: int = 0) -> None:
        self._db = pool
        self._leeway = leeway  # a verifier accepts a token until exp + leeway

    async def due(self, limit: int, after: str = "") -> list[tuple[str, datetime]]:
        """Up to ``limit`` entries still to write, in jti order after ``after`` (a pass pages
        through them once, however many stay unconfirmed); drops expired ones on the way (one
        round trip for both)."""
        rows = await self._db.fetch(
            """WITH expired AS (
                   DELETE FROM pending_revocations
                   WHERE expires_at + make_interval(secs => $2::float8) <= now())
               SELECT jti, expires_at FROM pending_revocations
               WHERE expires_at + make_interval(secs => $2::float8) > now() AND jti > $3
               ORDER BY jti LIMIT $1""",
            limit, float(self._leeway), after,
        )
        return [(r["jti"], r["expires_at"]) for r in rows]

    async def record(self, entries: Sequence[tuple[str, datetime]]) -> None:
        """Entries a revocation is about to write (kept if they are already recorded)."""
        if entries:
            await self._db.execute(
                """INSERT INTO pending_revocations (jti, expires_at)
                   SELECT * FROM unnest($1::text[], $2::timestamptz[]) ON CONFLICT (jti) DO NOTHING""",
                [jti for jti, _ in entries], [expires for _, expires in entries])

    async def written(self, jtis: Sequence[str]) -> None:
        """These entries are in the denylist now."""
        if jtis:
            await self._db.execute("DELETE FROM pending_revocations WHERE jti = ANY($1::text[])", list(jtis))
