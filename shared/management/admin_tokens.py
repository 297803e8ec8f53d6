"""Admin API tokens: create (shown once), list, revoke, and the lookup the admin API authenticates with.

A token is ``lka_`` and 256 random bits (the prefix lets leak scanners recognise it); only its
SHA-256 is stored. Authentication looks the digest up by equality in a unique index: the raw
token is never compared byte by byte, so response time says nothing about how much of it was
right (the same reasoning as for client secrets and refresh tokens).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg

from shared.crypto.digests import new_secret, sha256_hex
from shared.management.errors import Conflict, InvalidInput, NotFound
from shared.models import AuditEvent
from shared.stores.pg_audit import PgAudit

TOKEN_PREFIX = "lka_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_COLUMNS = "name, read_only, created_at, revoked_at"

Db: TypeAlias = asyncpg.Pool | asyncpg.Connection


@dataclass(frozen=True, slots=True)
class AdminToken:
    name: str
    read_only: bool
    created_at: datetime
    revoked_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "read_only": self.read_only, "created_at": self.created_at.isoformat(),
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}


@dataclass(frozen=True, slots=True)
class CreatedAdminToken:
    """The new token with its raw value, which exists only here: it is printed once."""

    record: AdminToken
    token: str

    def to_json(self) -> dict[str, Any]:
        return {**self.record.to_json(), "token": self.token}


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InvalidInput("admin token name must be 1 to 100 letters, digits or . _ @ - (starting with a "
                           "letter or digit)")
    return name


def actor(name: str) -> str:
    """How the audit trail names a change made with this token."""
    return f"admin-token:{name}"


async def create(conn: asyncpg.Connection, name: str, *, read_only: bool = False,
                 by: str = "cli") -> CreatedAdminToken:
    token = TOKEN_PREFIX + new_secret(32)
    async with conn.transaction():
        try:
            row = await conn.fetchrow(
                f"INSERT INTO admin_tokens (name, token_hash, read_only) VALUES ($1, $2, $3) RETURNING {_COLUMNS}",
                check_name(name), sha256_hex(token), read_only)
        except asyncpg.UniqueViolationError:
            raise Conflict(f"an admin token named {name!r} exists; revoke it first or choose another name") from None
        await PgAudit(conn).record_change(AuditEvent("admin_token_created",
                                              details={"actor": by, "name": name, "read_only": read_only}))
    return CreatedAdminToken(AdminToken(**row), token)


async def list_tokens(db: Db, *, after: int | None = None, limit: int = 1000) -> list[tuple[int, AdminToken]]:
    """Every token, live and revoked, oldest first, with the id that pages them."""
    rows = await db.fetch(f"SELECT id, {_COLUMNS} FROM admin_tokens WHERE $1::bigint IS NULL OR id > $1 "
                          "ORDER BY id LIMIT $2", after, limit)
    return [(r["id"], AdminToken(r["name"], r["read_only"], r["created_at"], r["revoked_at"])) for r in rows]


async def revoke(conn: asyncpg.Connection, name: str, *, by: str = "cli") -> AdminToken:
    async with conn.transaction():
        row = await conn.fetchrow(f"UPDATE admin_tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL "
                                  f"RETURNING {_COLUMNS}", name)
        if row is None:
            raise NotFound(f"no live admin token named {name!r}")
        await PgAudit(conn).record_change(AuditEvent("admin_token_revoked", details={"actor": by, "name": name}))
    return AdminToken(**row)


async def authenticate(db: Db, presented: str) -> AdminToken | None:
    """The live token whose digest matches, else None (malformed, unknown and revoked alike)."""
    if not presented.startswith(TOKEN_PREFIX) or len(presented) > 200:
        return None
    row = await db.fetchrow(f"SELECT {_COLUMNS} FROM admin_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
                            sha256_hex(presented))
    return AdminToken(**row) if row else None
