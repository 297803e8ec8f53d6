"""Security events (code replay, refresh reuse, PKCE failure, bad client auth) in audit_events.

Callers pass identifiers only: never a secret, code or token value. ``on_record`` is told of
every event before it is written (the service counts it in latchkey_security_events_total), so
an event is counted even when PostgreSQL is down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import asyncpg

from shared.models import AuditEvent

log = logging.getLogger("latchkey.audit")


class PgAudit:
    def __init__(self, pool: asyncpg.Pool | asyncpg.Connection,
                 on_record: Callable[[AuditEvent], None] | None = None) -> None:
        self._db = pool
        self._on_record = on_record

    async def record(self, event: AuditEvent) -> None:
        if self._on_record is not None:
            self._on_record(event)
        log.warning("security event %s client=%s user=%s details=%s",
                    event.event_type, event.client_id, event.user_id, event.details)
        await self._insert(event)

    async def record_change(self, event: AuditEvent) -> None:
        """A change an operator made (CLI or admin API; ``details["actor"]`` says who): written to
        the trail like a security event, logged at INFO, so a CLI command's stderr stays its one line."""
        log.info("change %s client=%s user=%s details=%s",
                 event.event_type, event.client_id, event.user_id, event.details)
        await self._insert(event)

    async def note(self, event: AuditEvent) -> None:
        """An outcome of the system's own work (a back-channel logout's delivery): in the trail,
        logged at INFO, not counted as a security event."""
        log.info("event %s client=%s user=%s details=%s",
                 event.event_type, event.client_id, event.user_id, event.details)
        await self._insert(event)

    async def _insert(self, event: AuditEvent) -> None:
        await self._db.execute(
            """INSERT INTO audit_events (event_type, client_id, user_id, remote_addr, details)
               VALUES ($1, $2, $3::uuid, $4, $5)""",
            event.event_type, event.client_id, event.user_id, event.remote_addr, event.details,
        )
