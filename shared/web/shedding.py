"""Load shedding: a service works on a bounded number of requests; more may wait briefly (a burst
longer than a standing queue); the rest get 503 temporarily_unavailable (with Retry-After) at once.

Without a bound an overloaded service queues without limit: every request gets slower until
clients time out, and the work done for them is wasted. With one, the requests accepted keep
their unloaded latency and the others learn at once to retry later (or elsewhere).

Health endpoints are exempt: a load balancer must see a busy replica as alive and ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

from aiohttp import web
from aiohttp.typedefs import Middleware

from shared.config import Settings
from shared.errors import TemporarilyUnavailable
from shared.web.adaptive_limit import AdaptiveLimit
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
    """At most ``limit`` requests in progress (with a ``floor``, an adaptive limit between the two:
    shared.web.adaptive_limit); up to ``queue_size`` more wait for a place.

    How long one may wait follows CoDel. A burst drains by itself: while it does, a newcomer may
    wait up to ``wait``, so spikes are absorbed, not refused. Once the oldest waiter has waited
    longer than ``overload_wait`` (the target) for 100 ms, the queue is standing: newcomers wait
    at most the target, and those already waiting longer are shed when a place frees (CoDel drops
    at the head), so the requests accepted keep close to their unloaded latency and the rest are
    told at once to come back. Places go first come first served until the oldest waiter passes
    the target with more waiters than places; from then on, and while the queue stands, a freed
    place goes to the newest waiter (adaptive LIFO, as in Facebook's "Fail at scale", 2015): first
    come first served would serve only requests that had already waited that long, in the 100 ms
    before the queue is known to stand and nearly the whole target after. The queue stops
    standing when a newcomer finds a free place; if the oldest wait passes the target again soon
    after, it stands again at once.
    """

    def __init__(self, limit: int, queue_size: int, wait: float, overload_wait: float, *,
                 floor: int | None = None) -> None:
        # ``limit`` is the most at once; with a lower ``floor`` the limit adapts between the two
        # to how busy the event loop is (shared.web.adaptive_limit).
        self._limit = AdaptiveLimit(min(floor or limit, limit), limit)
        self._in_use = 0
        # (when it queued, its turn: True, a place handed over by release; False, shed)
        self._waiters: deque[tuple[float, asyncio.Future[bool]]] = deque()
        self._queue_size = queue_size
        self._wait = wait
        self._target = min(overload_wait, wait)
        # A target no shorter than the patience (the database places' queue, which keeps requests
        # in order) is never passed by a live waiter: no standing queue, no newest first there.
        self._codel = overload_wait < wait
        self._above_target_since: float | None = None
        self._standing = False
        self._stood_until = -RECENTLY_STANDING_SECONDS  # when the queue last stopped standing

    def _observe_queue(self, now: float) -> None:
        """CoDel's measure, the sojourn of the request at the head of the queue (the oldest): the
        queue stands once it stayed above the target for 100 ms. The head, not the request just
        served: past the target, a long queue's places go to its newest waiters, who waited little."""
        if self._standing or not self._codel:
            return  # (standing: only a free place ends it; the short patience keeps every wait under the target)
        while self._waiters and self._waiters[0][1].done():
            self._waiters.popleft()  # one that gave up and has not left yet is not the head
        if not self._waiters or now - self._waiters[0][0] <= self._target:
            self._above_target_since = None
        elif now - self._stood_until < RECENTLY_STANDING_SECONDS:
            self._standing = True
        elif self._above_target_since is None:
            self._above_target_since = now
        elif now - self._above_target_since > STANDING_QUEUE_SECONDS:
            self._standing = True

    async def acquire(self) -> bool:
        """True with a place taken (give it back with ``release``); False: shed this request."""
        self._adapt()
        if self._in_use < self._limit.value:  # nobody waits then: places go to waiters first
            if self._standing:
                self._stood_until = time.monotonic()
            self._standing, self._above_target_since = False, None
            self._in_use += 1
            return True
        self._limit.note_wait()
        if len(self._waiters) >= self._queue_size:
            return False
        queued_at = time.monotonic()
        turn: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        waiter = (queued_at, turn)
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self._target if self._standing else self._wait):
                granted = await turn
        except TimeoutError:
            granted = False
        except asyncio.CancelledError:  # the client went away
            self._pass_on(turn)
            raise
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
        if not granted:
            self._pass_on(turn)
            return False
        if self._standing and time.monotonic() - queued_at > self._target:
            self.release()  # queued with the burst patience, now too late: shed at the head
            return False
        return True

    def _pass_on(self, turn: asyncio.Future[bool]) -> None:
        """A place handed over just as its waiter gave up goes to the next one."""
        if turn.done() and not turn.cancelled() and turn.result():
            self.release()

    @property
    def limit(self) -> int:
        """How many requests may be worked on at once now."""
        return self._limit.value

    def _adapt(self) -> None:
        if self._limit.update(self._someone_waits):
            self._hand_out()

    def _someone_waits(self) -> bool:
        return any(not turn.done() for _, turn in self._waiters)  # (one timed out may not have left yet)

    def _waiting(self) -> int:
        return sum(1 for _, turn in self._waiters if not turn.done())

    def release(self) -> None:
        self._in_use -= 1
        self._adapt()
        self._hand_out()

    def _hand_out(self) -> None:
        """Free places (below the limit, which may just have shrunk or grown) go to waiters."""
        if not self._waiters:
            if not self._standing:
                self._above_target_since = None
            return
        now = time.monotonic()
        self._observe_queue(now)
        if self._standing:
            deadline = now - self._target
            while self._waiters and self._waiters[0][0] < deadline:
                _, turn = self._waiters.popleft()
                if not turn.done():  # (one timed out may not have left yet)
                    turn.set_result(False)  # waited past the target: shed now
        # Newest first once the head waited past the target behind more waiters than places: in
        # the 100 ms before the queue is known to stand, first come first served would hand every
        # place to a request that had already waited that long (the start of an overload was
        # served 40-70 ms late). A queue no longer than one round of places (a few clients in a
        # closed loop) stays in order: there, newest first would starve the oldest until it is shed.
        newest_first = self._standing or (self._above_target_since is not None
                                          and self._waiting() > self._limit.value)
        while self._waiters and self._in_use < self._limit.value:
            _, turn = self._waiters.pop() if newest_first else self._waiters.popleft()
            if not turn.done():
                turn.set_result(True)
                self._in_use += 1


async def _in_a_place(limiter: RequestLimiter, handler: Handler, request: web.Request) -> web.StreamResponse:
    """Runs the request once it has one of the limiter's places; 503 when it is shed."""
    if not await limiter.acquire():
        raise TemporarilyUnavailable("the server is busy; try again shortly")
    try:
        return await handler(request)
    finally:
        limiter.release()


def _limiter(settings: Settings, limit: int, floor: int | None = None) -> RequestLimiter:
    return RequestLimiter(limit, settings.request_queue_size, settings.request_queue_wait_ms / 1000,
                          settings.request_queue_overload_wait_ms / 1000, floor=floor)


def concurrency_bounds(settings: Settings, default_limit: int, default_floor: int | None = None) -> tuple[int, int]:
    """(floor, ceiling) of a service's concurrency limit: LATCHKEY_MIN/MAX_CONCURRENT_REQUESTS, else
    the service's defaults (no default floor: a fixed limit). A floor set above the default ceiling
    raises it; validation refuses a floor above a ceiling that was set."""
    ceiling = settings.max_concurrent_requests or max(default_limit, settings.min_concurrent_requests)
    return min(settings.min_concurrent_requests or default_floor or ceiling, ceiling), ceiling


class LoadShedding:
    """The middleware (aiohttp's new style); /metrics reads its ``limiter`` (shared.web.metrics)."""

    __middleware_version__ = 1

    def __init__(self, limiter: RequestLimiter, *, read_body_first: bool = True) -> None:
        self.limiter = limiter
        self._read_body_first = read_body_first

    async def __call__(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in HEALTH_PATHS:
            return await handler(request)
        if self._read_body_first:
            # Read the body (bounded by client_max_size) before taking a place, so a client that
            # sends it slowly holds a connection, not one of the few places.
            await request.read()
        return await _in_a_place(self.limiter, handler, request)


def load_shedding_middleware(settings: Settings, *, default_limit: int, default_floor: int | None = None,
                             read_body_first: bool = True) -> LoadShedding:
    """Sits inside the service's error middleware, which renders the 503 (JSON or a page).
    ``default_limit`` (the most at once) and ``default_floor`` (the fewest the adaptive limit goes
    down to; None: fixed) apply unless LATCHKEY_MAX/MIN_CONCURRENT_REQUESTS are set.
    ``read_body_first=False``: for a service that authenticates every request inside the limit
    from its headers alone (admin), so the body is read, and an oversized one refused, only after
    the caller was (a slow body then holds a place only for an authenticated caller)."""
    floor, ceiling = concurrency_bounds(settings, default_limit, default_floor)
    return LoadShedding(_limiter(settings, ceiling, floor), read_body_first=read_body_first)


def database_places_middleware(settings: Settings, *, prefixes: tuple[str, ...], default_limit: int) -> Middleware:
    """Requests under ``prefixes`` each need a pooled PostgreSQL connection: at most
    LATCHKEY_DB_POOL_MAX of them work at once, the others wait here, in order (inside
    ``load_shedding_middleware``, for a service whose other requests are many more).

    Left to the pool, they would wait in asyncpg's queue, which is not fair: a connection
    released while waiters are woken goes to whoever asks first, and a waiter that lost it
    queues again at the back. With 64 requests on 10 connections some waited over a second.

    Every request here was admitted by the service's own limit (``default_limit`` unless
    LATCHKEY_MAX_CONCURRENT_REQUESTS is set), which sheds for overload: so each may wait its turn,
    up to a burst's patience (LATCHKEY_REQUEST_QUEUE_WAIT_MS), never the overload target. With that
    target here too, 64 clients on 10 connections (wrk -c64) made a standing queue of admitted
    requests and two thirds of them got 503 while the service was not overloaded.
    """
    _, admitted = concurrency_bounds(settings, default_limit)
    patience = settings.request_queue_wait_ms / 1000
    limiter = RequestLimiter(settings.db_pool_max, max(admitted - settings.db_pool_max, 0), patience, patience)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(prefixes):
            return await handler(request)
        return await _in_a_place(limiter, handler, request)

    return middleware
