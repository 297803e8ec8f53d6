"""What /readyz reports, kept fresh by a background probe instead of measured per request.

Measured per request, readiness waited for a pooled connection, so under load every replica
failed its probe at once and a load balancer dropped them all. Here one task per process checks
PostgreSQL (``SELECT 1`` on a dedicated connection, not the pool) and Redis (``PING`` on a
dedicated connection) every LATCHKEY_READY_PROBE_SECONDS, each bounded by
LATCHKEY_READY_PROBE_TIMEOUT_SECONDS; /readyz answers from the last results. A store counts as
up while its last probe succeeded and is fresh, so a stuck probe task reads as not ready too.
A stopped store shows within one interval plus one timeout. A stopping process reads as not
ready at once (``start_draining``, called on SIGTERM by shared.web.graceful).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import cast

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

from shared.bearer.tasks import stop_tasks
from shared.config import Settings
from shared.redis_client import connect

log = logging.getLogger("latchkey.readiness")


class StoreProbe:
    """One store's dedicated connection and the time of its last successful check."""

    def __init__(self, name: str, check: Callable[[], Awaitable[None]], close: Callable[[], Awaitable[None]]) -> None:
        self.name = name
        self._check = check
        self._close = close
        self.ok_at = float("-inf")

    async def run(self, timeout: float) -> None:
        try:
            async with asyncio.timeout(timeout):
                await self._check()
        except Exception as exc:  # any failure means "not ready"; the next round reconnects
            log.warning("readiness probe of %s failed: %s", self.name, type(exc).__name__)
            self.ok_at = float("-inf")  # down now, not once the last success goes stale
            await self._close()
        else:
            self.ok_at = time.monotonic()


class Readiness:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._interval = settings.ready_probe_interval
        self._timeout = settings.ready_probe_timeout
        # A success older than this is stale: the probe should have run again by now.
        self._fresh_for = 2 * (self._interval + self._timeout)
        self._draining = False
        self._pg: asyncpg.Connection | None = None
        self._redis: Redis | None = None
        self.probes = (StoreProbe("postgres", self._ping_postgres, self._close_postgres),
                       StoreProbe("redis", self._ping_redis, self._close_redis))

    @property
    def draining(self) -> bool:
        return self._draining

    def start_draining(self) -> None:
        """The process is stopping (shared.web.graceful): /readyz fails from now on, whatever
        the stores say, so a load balancer takes this replica out while it still serves."""
        self._draining = True

    def status(self) -> dict[str, bool]:
        now = time.monotonic()
        return {probe.name: now - probe.ok_at <= self._fresh_for for probe in self.probes}

    async def probe_once(self) -> None:
        await asyncio.gather(*(probe.run(self._timeout) for probe in self.probes))

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.probe_once()

    async def close(self) -> None:
        await asyncio.gather(self._close_postgres(), self._close_redis())

    async def _ping_postgres(self) -> None:
        if self._pg is None or self._pg.is_closed():
            self._pg = await asyncpg.connect(self._settings.database_url, timeout=self._timeout)
        await self._pg.fetchval("SELECT 1")

    async def _close_postgres(self) -> None:
        conn, self._pg = self._pg, None
        if conn is not None:
            conn.terminate()  # never waits on a server that may be gone

    async def _ping_redis(self) -> None:
        if self._redis is None:
            # Any REDIS_URL form: behind Sentinel the PING goes to the primary the sentinels name.
            self._redis = connect(self._settings.redis_url, max_connections=1, socket_timeout=self._timeout)
        await cast("Awaitable[bool]", self._redis.ping())  # redis-py 7 types it for both clients

    async def _close_redis(self) -> None:
        client, self._redis = self._redis, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()


READINESS = web.AppKey("readiness", Readiness)


def readiness_context(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    """cleanup_ctx: probe once before the app serves (so /readyz is right from the first
    request), then keep probing in the background until the app stops."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        readiness = Readiness(settings)
        await readiness.probe_once()
        app[READINESS] = readiness
        task = asyncio.create_task(readiness.run_forever())
        try:
            yield
        finally:
            await stop_tasks(task)
            await readiness.close()

    return context
