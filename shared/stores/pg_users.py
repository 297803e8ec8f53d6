"""Users in PostgreSQL; usernames are unique case-insensitively."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from shared.models import User, UserProfile

_COLUMNS = "id, username, password_hash, email, email_verified, name, disabled"
_PROFILE_COLUMNS = "id, username, email, email_verified, name, disabled"


class DuplicateUsername(Exception):
    pass


def parse_user_id(user_id: UUID | str) -> UUID | None:
    """A malformed id names no user (ids come from stored grants and sessions, not only from us)."""
    try:
        return user_id if isinstance(user_id, UUID) else UUID(user_id)
    except ValueError:
        return None


class PgUsers:
    def __init__(self, pool: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = pool

    async def get_by_username(self, username: str) -> User | None:
        row = await self._db.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE lower(username) = lower($1)", username)
        return User(**row) if row else None

    async def get(self, user_id: UUID | str) -> User | None:
        if (uid := parse_user_id(user_id)) is None:
            return None
        row = await self._db.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE id = $1", uid)
        return User(**row) if row else None

    async def get_profile(self, user_id: UUID | str) -> UserProfile | None:
        """One primary-key lookup for /userinfo; the password hash stays in the database."""
        if (uid := parse_user_id(user_id)) is None:
            return None
        row = await self._db.fetchrow(f"SELECT {_PROFILE_COLUMNS} FROM users WHERE id = $1", uid)
        return UserProfile(**row) if row else None

    async def is_enabled(self, user_id: UUID | str) -> bool:
        """False for a disabled or unknown user: the token endpoint's only question about users."""
        if (uid := parse_user_id(user_id)) is None:
            return False
        return bool(await self._db.fetchval("SELECT NOT disabled FROM users WHERE id = $1", uid))

    async def create(
        self, username: str, password_hash: str, *, email: str | None = None, name: str | None = None,
        email_verified: bool = False,
    ) -> User:
        try:
            row = await self._db.fetchrow(
                f"""INSERT INTO users (username, password_hash, email, name, email_verified)
                    VALUES ($1, $2, $3, $4, $5) RETURNING {_COLUMNS}""",
                username, password_hash, email, name, email_verified,
            )
        except asyncpg.UniqueViolationError:
            raise DuplicateUsername(username) from None
        return User(**row)
