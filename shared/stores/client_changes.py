"""Telling every replica that a client changed, within seconds (CONTRACT: disable, delete and
rotate-secret take effect everywhere within 5 s).

A management operation, after its transaction commits, increments one Redis counter. Each
service process polls that counter every ``LATCHKEY_CLIENT_CHANGE_POLL_SECONDS`` (one GET) and
empties its client cache when it moved; its cache serves entries only until two polls' time
after the last successful poll. So a change is seen within one poll interval, and when Redis
cannot be read the cache stops answering after two and every lookup goes to PostgreSQL, which is
always right. Why a polled version rather than Redis pub/sub: a subscriber misses whatever is
published while its connection is down and needs a connection of its own plus a fallback for
exactly that case; the poll has no state to lose, its bound is explicit, and one GET a second
per process costs nothing next to the lookups the cache saves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.bearer.tasks import stop_tasks
from shared.stores.pg_clients import CachedClients

log = logging.getLogger("latchkey.clients")


class ClientChanges:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._key = f"{prefix}clients-version"

    async def announce(self) -> None:
        await self._redis.incr(self._key)

    async def version(self) -> bytes | None:
        value = await self._redis.get(self._key)
        return value.encode() if isinstance(value, str) else value


async def watch_client_changes(cache: CachedClients, changes: ClientChanges, interval: float) -> None:
    """Runs until cancelled: empties ``cache`` whenever a client changed, and keeps it trusted
    only while polls succeed."""
    seen: bytes | None = None
    first = True
    cache.trust_until(0.0)  # nothing is served from the cache before the first poll
    while True:
        try:
            version = await changes.version()
        except (RedisError, OSError) as exc:
            log.warning("cannot read the clients version (%s); client lookups bypass the cache", type(exc).__name__)
        else:
            if first or version != seen:
                cache.invalidate()
                seen, first = version, False
            cache.trust_until(time.monotonic() + 2 * interval)
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def watching(cache: CachedClients, redis: Redis, prefix: str, interval: float) -> AsyncIterator[None]:
    """The watcher as a background task for as long as the block runs (a service's cleanup_ctx)."""
    task = asyncio.create_task(watch_client_changes(cache, ClientChanges(redis, prefix), interval))
    try:
        yield
    finally:
        await stop_tasks(task)
