"""Notes in PostgreSQL. Every query is scoped by the owner: there is no way to ask for all notes.

Each query also checks, in the same round trip, that the owner is still an enabled user: a
token outlives a disabled account by up to its lifetime, and /userinfo refuses it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg


class UnknownOwner(Exception):
    """The owner id names no enabled user (deleted or disabled since the token was issued)."""


@dataclass(frozen=True, slots=True)
class Note:
    id: UUID
    body: str
    created_at: datetime


class PgNotes:
    def __init__(self, pool: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = pool

    async def list_for(self, owner: UUID, limit: int) -> list[Note]:
        # One row per note, or a single all-NULL row when an enabled owner has none; no row: no owner.
        rows = await self._db.fetch(
            "SELECT n.id, n.body, n.created_at FROM users u LEFT JOIN LATERAL ("
            " SELECT id, body, created_at FROM notes WHERE user_id = u.id"
            " ORDER BY created_at DESC, id LIMIT $2) n ON true"
            " WHERE u.id = $1 AND NOT u.disabled ORDER BY n.created_at DESC, n.id",
            owner, limit,
        )
        if not rows:
            raise UnknownOwner(str(owner))
        return [Note(**r) for r in rows if r["id"] is not None]

    async def get_for(self, owner: UUID, note_id: UUID) -> Note | None:
        row = await self._db.fetchrow(
            "SELECT n.id, n.body, n.created_at FROM users u"
            " LEFT JOIN notes n ON n.user_id = u.id AND n.id = $2 WHERE u.id = $1 AND NOT u.disabled",
            owner, note_id,
        )
        if row is None:
            raise UnknownOwner(str(owner))
        return Note(**row) if row["id"] is not None else None

    async def create(self, owner: UUID, body: str) -> Note:
        try:
            row = await self._db.fetchrow(
                "INSERT INTO notes (user_id, body) SELECT id, $2 FROM users WHERE id = $1 AND NOT disabled"
                " RETURNING id, body, created_at", owner, body,
            )
        except asyncpg.ForeignKeyViolationError:  # the user was deleted between the SELECT and the INSERT
            raise UnknownOwner(str(owner)) from None
        if row is None:
            raise UnknownOwner(str(owner))
        return Note(**row)
