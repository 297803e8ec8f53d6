"""Load shedding: a service works on a bounded number of requests; more may wait briefly (a burst
longer than a standing queue); the rest get 503 temporarily_unavailable (with Retry-After) at once.

Without a bound an overloaded service queues without limit: every request gets slower until
clients time out, and the work done for them is wasted. With one, the requests accepted keep
their unloaded latency and the others learn at once to retry later (or elsewhere).

Health endpoints are exempt: a load balancer must see a busy replica as alive and ready.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web
from aiohttp.typedefs import Middleware

from shared.config import Settings
from shared.errors import TemporarilyUnavailable
from shared.web.errors import Handler

HEALTH_PATHS = frozenset({"/healthz", "/readyz"})


# CoDel's interval (Nichols & Jacobson, "Controlling Queue Delay", 2012): when every request in
# this long waited more than the target before it got a place, the queue is standing (sustained
# overload), not a burst that drains by itself.
STANDING_QUEUE_SECONDS = 0.1
# CoDel's memory: a queue that stands again this soon after it drained is the same overload come
# back (16 intervals, as CoDel), so it is treated as standing at once instead of after a fresh
# interval during which every newcomer would wait the long burst patience.
RECENTLY_STANDING_SECONDS = 16 * STANDING_QUEUE_SECONDS


class RequestLimiter:
    """At most ``limit`` requests in progress; up to ``queue_size`` more wait, first come first
    served (asyncio.Semaphore is FIFO).

    How long one may wait follows CoDel. A burst drains by itself: while it does, a newcomer may
    wait up to ``wait``, so spikes are absorbed, not refused. Once every request for 100 ms waited
    longer than ``overload_wait`` (the target), the queue is standing: newcomers wait at most the
    target, and a request that already waited longer when its place comes is shed then (CoDel
    drops at the head), so the requests accepted keep close to their unloaded latency and the rest
    are told at once to come back. The queue stops standing when a newcomer finds a free place; if
    waits pass the target again soon after, it stands again at once.
    """

    def __init__(self, limit: int, queue_size: int, wait: float, overload_wait: float) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._queue_size = queue_size
        self._wait = wait
        self._target = min(overload_wait, wait)
        self._waiting = 0
        self._above_target_since: float | None = None
        self._standing = False
        self._stood_until = -RECENTLY_STANDING_SECONDS  # when the queue last stopped standing

    def _record_wait(self, waited: float, now: float) -> None:
        if self._standing:
            return  # only a free place ends it: the short patience keeps every wait under the target
        if waited <= self._target:
            self._above_target_since = None
        elif now - self._stood_until < RECENTLY_STANDING_SECONDS:
            self._standing = True
        elif self._above_target_since is None:
            self._above_target_since = now
        elif now - self._above_target_since > STANDING_QUEUE_SECONDS:
            self._standing = True

    async def acquire(self) -> bool:
        """True with a place taken (give it back with ``release``); False: shed this request."""
        if not self._slots.locked():
            if self._standing:
                self._stood_until = time.monotonic()
            self._standing, self._above_target_since = False, None
            await self._slots.acquire()  # a free place: returns without yielding
            return True
        if self._waiting >= self._queue_size:
            return False
        queued_at = time.monotonic()
        self._waiting += 1
        try:
            async with asyncio.timeout(self._target if self._standing else self._wait):
                await self._slots.acquire()
        except TimeoutError:
            return False
        finally:
            self._waiting -= 1
        now = time.monotonic()
        self._record_wait(now - queued_at, now)
        if self._standing and now - queued_at > self._target:
            self._slots.release()  # queued with the burst patience, now too late: shed at the head
            return False
        return True

    def release(self) -> None:
        self._slots.release()


def load_shedding_middleware(settings: Settings, *, default_limit: int) -> Middleware:
    """Sits inside the service's error middleware, which renders the 503 (JSON or a page).
    ``default_limit`` applies unless LATCHKEY_MAX_CONCURRENT_REQUESTS is set for the process."""
    limiter = RequestLimiter(settings.max_concurrent_requests or default_limit, settings.request_queue_size,
                             settings.request_queue_wait_ms / 1000, settings.request_queue_overload_wait_ms / 1000)

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
