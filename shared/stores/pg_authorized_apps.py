"""The applications a user has authorized, as the account page lists them.

One query: each remembered consent (OIDC Core §3.1.2.4) with its client's name and when the
grant was last used. There is no "last used" column: the newest live refresh token of the user
for the client was issued at the last refresh (or the first exchange), found through the
partial index refresh_tokens_live_by_user. A grant without refresh tokens (no offline_access)
leaves no such trace, and its last use is unknown (None).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg


@dataclass(frozen=True, slots=True)
class AuthorizedApp:
    client_id: str
    client_name: str
    scopes: tuple[str, ...]
    consented_at: datetime  # when the consent was last given or widened
    last_used_at: datetime | None


class PgAuthorizedApps:
    def __init__(self, pool: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = pool

    async def of_user(self, user_id: UUID | str) -> list[AuthorizedApp]:
        """Newest consent first; a disabled client is unknown everywhere, so it is not listed."""
        rows = await self._db.fetch(
            """SELECT c.client_id, k.name, c.scopes, c.updated_at,
                      (SELECT max(r.created_at) FROM refresh_tokens r
                       WHERE r.user_id = c.user_id AND r.client_id = c.client_id AND r.revoked_at IS NULL) AS last_used
               FROM consents c JOIN clients k USING (client_id)
               WHERE c.user_id = $1 AND NOT k.disabled
               ORDER BY c.updated_at DESC, c.client_id""",
            user_id if isinstance(user_id, UUID) else UUID(user_id))
        return [AuthorizedApp(r["client_id"], r["name"], tuple(r["scopes"]), r["updated_at"], r["last_used"])
                for r in rows]
