"""What an operation works on: PostgreSQL (a pool or one connection), Redis and the settings,
and the one way it runs its writes (a transaction) and tells the services what changed."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
from redis.asyncio import Redis

from shared.config import Settings
from shared.models import AuditEvent, Cutoff
from shared.stores.client_changes import ClientChanges
from shared.stores.pg_pending_cutoffs import PgPendingCutoffs
from shared.stores.redis_denylist import RedisDenylist
from shared.stores.redis_sessions import RedisSessions

# Access tokens issued up to this many seconds after a disable or delete are refused too: a
# replica's client cache lags by at most two polls (LATCHKEY_CLIENT_CHANGE_POLL_SECONDS <= 2),
# and a request that passed its checks just before the change may still be minting.
REVOCATION_MARGIN = 5


@dataclass(frozen=True, slots=True)
class Backends:
    db: asyncpg.Pool | asyncpg.Connection
    redis: Redis
    settings: Settings

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        if isinstance(self.db, asyncpg.Pool):
            async with self.db.acquire() as conn, conn.transaction():
                yield conn
        else:
            async with self.db.transaction():
                yield self.db

    @property
    def denylist(self) -> RedisDenylist:
        return RedisDenylist(self.redis, self.settings.redis_prefix, leeway=self.settings.clock_leeway)

    @property
    def sessions(self) -> RedisSessions:
        return RedisSessions(self.redis, self.settings.redis_prefix)

    async def clients_changed(self) -> None:
        """After the commit: every service's client cache drops what it holds within a poll."""
        await ClientChanges(self.redis, self.settings.redis_prefix).announce()

    async def record_cutoff(self, conn: asyncpg.Connection, *, reason: str, user_id: UUID | None = None,
                            client_id: str | None = None, margin: int = REVOCATION_MARGIN) -> Cutoff:
        """In the operation's transaction: every access token of the user, client or pair issued
        until now (plus ``margin``) is to be refused. Recorded, so that if the operation cannot
        carry it out (Redis down, a crash) the token service does once Redis is back
        (shared.management.cutoffs)."""
        cutoff = Cutoff.now(subject=None if user_id is None else str(user_id), client_id=client_id, margin=margin,
                            leeway=self.settings.clock_leeway, reason=reason)
        await PgPendingCutoffs(conn).record(cutoff)
        return cutoff

    async def clamp_cutoff(self, conn: asyncpg.Connection, *, user_id: UUID | None = None,
                           client_id: str | None = None) -> None:
        """In an enable's transaction: a cut-off its disable has not carried out yet (Redis was
        down) refuses nothing issued, and ends no session begun, from now on."""
        await PgPendingCutoffs(conn).clamp(subject=None if user_id is None else str(user_id), client_id=client_id,
                                           before_ms=time.time_ns() // 1_000_000)

    async def revoke_access(self, jtis: list[tuple[str, datetime]], cutoff: Cutoff) -> None:
        """After the commit: deny-lists the recorded access tokens and writes the cut-off. A Redis
        failure raises; the recorded cut-off still takes effect then, written by the token service
        (it covers the recorded tokens too: all were issued before)."""
        await self.denylist.add_many(jtis)
        await self.denylist.cut_off(cutoff)

    async def reinstate_access(self, *, user_id: UUID | None = None, client_id: str | None = None) -> None:
        """After the commit of an enable: the user's or client's tokens minted from now on work,
        even inside the margin of its disable. Idempotent, like ``revoke_access``."""
        await self.denylist.reinstate(subject=None if user_id is None else str(user_id), client_id=client_id)


async def record_change(conn: asyncpg.Connection, event: AuditEvent) -> None:
    """A management change in the audit trail, in the operation's transaction. Not logged as a
    security event (``PgAudit`` does that): it is the operator's own action."""
    await conn.execute(
        "INSERT INTO audit_events (event_type, client_id, user_id, details) VALUES ($1, $2, $3::uuid, $4)",
        event.event_type, event.client_id, event.user_id, event.details)
