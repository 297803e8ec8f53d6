"""Load shedding: a service works on a bounded number of requests; a few more may wait briefly;
the rest get 503 temporarily_unavailable (with Retry-After) at once.

Without a bound an overloaded service queues without limit: every request gets slower until
clients time out, and the work done for them is wasted. With one, the requests accepted keep
their unloaded latency and the others learn at once to retry later (or elsewhere).

Health endpoints are exempt: a load balancer must see a busy replica as alive and ready.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.typedefs import Middleware

from shared.config import Settings
from shared.errors import TemporarilyUnavailable
from shared.web.errors import Handler

HEALTH_PATHS = frozenset({"/healthz", "/readyz"})


class RequestLimiter:
    """At most ``limit`` requests in progress; up to ``queue_size`` more wait, each at most
    ``wait`` seconds, first come first served (asyncio.Semaphore is FIFO)."""

    def __init__(self, limit: int, queue_size: int, wait: float) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._queue_size = queue_size
        self._wait = wait
        self._waiting = 0

    async def acquire(self) -> bool:
        """True with a place taken (give it back with ``release``); False: shed this request."""
        if not self._slots.locked():
            await self._slots.acquire()  # a free place: returns without yielding
            return True
        if self._waiting >= self._queue_size:
            return False
        self._waiting += 1
        try:
            async with asyncio.timeout(self._wait):
                await self._slots.acquire()
            return True
        except TimeoutError:
            return False
        finally:
            self._waiting -= 1

    def release(self) -> None:
        self._slots.release()


def load_shedding_middleware(settings: Settings, *, default_limit: int) -> Middleware:
    """Sits inside the service's error middleware, which renders the 503 (JSON or a page).
    ``default_limit`` applies unless LATCHKEY_MAX_CONCURRENT_REQUESTS is set for the process."""
    limiter = RequestLimiter(settings.max_concurrent_requests or default_limit, settings.request_queue_size,
                             settings.request_queue_wait_ms / 1000)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in HEALTH_PATHS:
            return await handler(request)
        # Read the body (bounded by client_max_size) before taking a place, so a client that
        # sends it slowly holds a connection, not one of the few places.
        await request.read()
        if not await limiter.acquire():
            raise TemporarilyUnavailable("the server is busy; try again shortly")
        try:
            return await handler(request)
        finally:
            limiter.release()

    return middleware
