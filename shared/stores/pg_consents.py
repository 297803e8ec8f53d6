"""Remembered consent per user and client (OIDC Core §3.1.2.4)."""

from __future__ import annotations

from uuid import UUID

import asyncpg


class PgConsents:
    def __init__(self, pool: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = pool

    async def granted_scopes(self, user_id: UUID | str, client_id: str) -> frozenset[str]:
        scopes = await self._db.fetchval(
            "SELECT scopes FROM consents WHERE user_id = $1 AND client_id = $2", _uuid(user_id), client_id
        )
        return frozenset(scopes or ())

    async def grant(self, user_id: UUID | str, client_id: str, scopes: frozenset[str]) -> None:
        """Adds to what was granted before; consent only grows until revoked."""
        await self._db.execute(
            """INSERT INTO consents (user_id, client_id, scopes) VALUES ($1, $2, $3)
               ON CONFLICT (user_id, client_id) DO UPDATE
               SET scopes = ARRAY(SELECT DISTINCT unnest(consents.scopes || EXCLUDED.scopes) ORDER BY 1),
                   updated_at = now()""",
            _uuid(user_id), client_id, sorted(scopes),
        )

    async def revoke(self, user_id: UUID | str, client_id: str) -> None:
        await self._db.execute("DELETE FROM consents WHERE user_id = $1 AND client_id = $2", _uuid(user_id), client_id)


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)
