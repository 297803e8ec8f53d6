"""The back-channel logouts still to deliver: a Redis stream read through a consumer group.

Whoever ends a session (authorize, the CLI, the admin API) only appends here; the token service,
which holds the signing keys, reads, signs and delivers. An entry is acknowledged (and deleted)
only once its delivery reached a final outcome, so an entry appended while no token service runs,
or read by one that died before finishing, stays pending: the group hands it out again (``claim_stale``).
The stream has one key, so it works on Redis Cluster too.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared.models import Client

GROUP = "deliverers"
# A safety net only: with every entry acknowledged and deleted the stream stays near empty.
MAX_LENGTH = 1_000_000


@dataclass(frozen=True, slots=True)
class LogoutEvent:
    """One logout token to send: to ``client_id``, about user ``sub`` and session ``sid`` ("": none).

    Without ``client_id`` it is a deferred announcement (``shared.logout.announce.announce_or_defer``):
    session ``sid`` ended while PostgreSQL was down, so whom to tell is still to be worked out."""

    client_id: str
    sub: str
    sid: str
    reason: str  # what ended the session: logout, user_disabled, user_deleted, consent_revoked, ...
    queued_at: int = 0

    @property
    def deferred(self) -> bool:
        return not self.client_id

    def fields(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}

    @classmethod
    def parse(cls, raw: dict[bytes | str, bytes | str]) -> LogoutEvent:
        """Raises KeyError or ValueError on an entry that is not one of ours."""
        text = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
                for k, v in raw.items()}
        return cls(client_id=text["client_id"], sub=text["sub"], sid=text["sid"], reason=text["reason"],
                   queued_at=int(text["queued_at"]))


Entry = tuple[str, dict[bytes | str, bytes | str]]


def wants_logout(client: Client | None, sid: str) -> bool:
    """Whom a logout token is for: a client still registered and enabled, with a
    backchannel_logout_uri; one without ``sid`` only if it does not require one (§2.2). Checked
    when queueing and again at delivery (the client may have changed in between)."""
    return (client is not None and not client.disabled and bool(client.backchannel_logout_uri)
            and (bool(sid) or not client.backchannel_logout_session_required))


def _id(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class LogoutQueue:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self.key = f"{prefix}backchannel-logout"

    async def push(self, events: Iterable[LogoutEvent]) -> int:
        now = int(time.time())
        queued = 0
        async with self._redis.pipeline(transaction=False) as pipe:
            for event in events:
                fields = LogoutEvent(event.client_id, event.sub, event.sid, event.reason, now).fields()
                pipe.xadd(self.key, fields, maxlen=MAX_LENGTH, approximate=True)  # type: ignore[arg-type]
                queued += 1
            if queued:
                await pipe.execute()
        return queued

    async def ensure_group(self) -> None:
        """The group starts at the stream's beginning, so entries appended before any token
        service ever ran are delivered too."""
        try:
            await self._redis.xgroup_create(self.key, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read(self, consumer: str, count: int, block_ms: int) -> list[Entry]:
        """New entries for this consumer; waits up to ``block_ms`` when there are none."""
        answer: Any = await self._redis.xreadgroup(GROUP, consumer, {self.key: ">"}, count=count,
                                                         block=block_ms)
        return [(_id(entry_id), fields) for _, entries in answer or () for entry_id, fields in entries]

    async def claim_stale(self, consumer: str, min_idle_ms: int, count: int) -> list[Entry]:
        """Entries another consumer read but did not finish within ``min_idle_ms`` (it died)."""
        answer: list[Any] = await self._redis.xautoclaim(self.key, GROUP, consumer, min_idle_ms, start_id="0-0",
                                                         count=count)
        # An entry deleted meanwhile comes back without fields (Redis 6.2): the caller acks it.
        return [(_id(entry_id), fields or {}) for entry_id, fields in answer[1]]

    async def done(self, entry_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.key, GROUP, entry_id)
            pipe.xdel(self.key, entry_id)
            await pipe.execute()

    async def pending(self) -> int:
        """Entries read and not yet finished (for tests and operators)."""
        try:
            summary = await self._redis.xpending(self.key, GROUP)
        except ResponseError:
            return 0
        return int(summary["pending"])
