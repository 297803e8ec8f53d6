"""The audit trail (audit_events), read newest first with filters, for the admin API.

Rows are written by shared.stores.pg_audit: security events of the services and every change
made through the CLI or the admin API (``details.actor`` names who made it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Every field that is not None narrows the result; ``user`` is a username or a user id."""

    since: datetime | None = None
    until: datetime | None = None
    event: str | None = None
    client_id: str | None = None
    user: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    occurred_at: datetime
    event: str
    client_id: str | None
    user_id: str | None
    remote_addr: str | None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "occurred_at": self.occurred_at.isoformat(), "event": self.event,
                "client_id": self.client_id, "user_id": self.user_id, "remote_addr": self.remote_addr,
                "details": self.details}


def _user_ids(user: str | None) -> tuple[UUID | None, str | None]:
    """A user id matches itself (events outlive deleted users); anything else is a username."""
    if user is None:
        return None, None
    try:
        return UUID(user), None
    except ValueError:
        return None, user


async def list_events(db: asyncpg.Pool | asyncpg.Connection, filters: AuditFilter, *,
                      before: int | None = None, limit: int = 100) -> list[AuditRecord]:
    """Newest first; ``before`` is the id of the last event of the previous page (ids only grow)."""
    user_id, username = _user_ids(filters.user)
    rows = await db.fetch(
        """SELECT id, occurred_at, event_type, client_id, user_id, remote_addr, details FROM audit_events
           WHERE ($1::bigint IS NULL OR id < $1)
             AND ($2::timestamptz IS NULL OR occurred_at >= $2)
             AND ($3::timestamptz IS NULL OR occurred_at < $3)
             AND ($4::text IS NULL OR event_type = $4)
             AND ($5::text IS NULL OR client_id = $5)
             AND ($6::uuid IS NULL OR user_id = $6)
             AND ($7::text IS NULL OR user_id = (SELECT id FROM users WHERE lower(username) = lower($7)))
           ORDER BY id DESC LIMIT $8""",
        before, filters.since, filters.until, filters.event, filters.client_id, user_id, username, limit)
    return [AuditRecord(r["id"], r["occurred_at"], r["event_type"], r["client_id"],
                        None if r["user_id"] is None else str(r["user_id"]), r["remote_addr"],
                        r["details"] if isinstance(r["details"], dict) else {}) for r in rows]
