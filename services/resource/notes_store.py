"""Notes in PostgreSQL. Every query is scoped by the owner: there is no way to ask for all notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg


class UnknownOwner(Exception):
    """The owner id names no user (deleted since the token was issued)."""


@dataclass(frozen=True, slots=True)
class Note:
    id: UUID
    body: str
    created_at: datetime


class PgNotes:
    def __init__(self, pool: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = pool

    async def list_for(self, owner: UUID, limit: int) -> list[Note]:
        rows = await self._db.fetch(
            "SELECT id, body, created_at FROM notes WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT $2",
            owner, limit,
        )
        return [Note(**r) for r in rows]

    async def get_for(self, owner: UUID, note_id: UUID) -> Note | None:
        row = await self._db.fetchrow(
            "SELECT id, body, created_at FROM notes WHERE user_id = $1 AND id = $2", owner, note_id
        )
        return Note(**row) if row else None

    async def create(self, owner: UUID, body: str) -> Note:
        try:
            row = await self._db.fetchrow(
                "INSERT INTO notes (user_id, body) VALUES ($1, $2) RETURNING id, body, created_at", owner, body
            )
        except asyncpg.ForeignKeyViolationError:
            raise UnknownOwner(str(owner)) from None
        return Note(**row)
