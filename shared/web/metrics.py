"""Metrics, request ids and traces for every service: ``instrument(app)`` is the one line.

One middleware, outermost, per request: a request id (shared.web.request_context), the in-flight
gauge, and on the way out the request counter and latency histogram labelled by route TEMPLATE
(``/api/notes/{note_id}``, never the raw path; ``unmatched`` when no route matched), method and
status class. It also answers ``GET /metrics`` (Prometheus text format) to peers inside
LATCHKEY_METRICS_ALLOW, before load shedding, so a scrape of a busy service still works; any other
peer is passed on and gets the router's 404, exactly like an unknown address. The peer is the
TCP peer (``request.remote``), never X-Forwarded-For: the gateway must not route /metrics.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from shared.config import Settings
from shared.metrics import Metrics, multiprocess_dir
from shared.web.app_keys import METRICS, POOL, SETTINGS
from shared.web.errors import Handler
from shared.web.request_context import REQUEST_ID_HEADER, REQUEST_INFO, RequestInfo, request_id_of
from shared.web.shedding import HEALTH_PATHS, LoadShedding, RequestLimiter

METRICS_PATH = "/metrics"
SCRAPE = web.RequestKey("latchkey_scrape", bool)  # this request is a /metrics scrape observe_middleware answered
# Paths a service answers without credentials: its health checks, and /metrics, which
# observe_middleware serves to allowed peers; to others it is an unknown path (404), not a 401.
OPEN_PATHS = HEALTH_PATHS | {METRICS_PATH}
UNMATCHED_ROUTE = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_STATUS_CLASSES = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def route_template(request: web.BaseRequest) -> str:
    """The matched resource's template (aiohttp ``canonical``): bounded, and never an id."""
    try:
        match_info = request.match_info  # type: ignore[attr-defined]
    except (AttributeError, AssertionError):  # a BaseRequest; a request too malformed to be routed
        return UNMATCHED_ROUTE
    route = getattr(match_info, "route", None)
    canonical = getattr(getattr(route, "resource", None), "canonical", None)
    if isinstance(canonical, str):
        return canonical
    # /metrics is served by observe_middleware, not by a route: a scrape it answered is logged so.
    return METRICS_PATH if request.get(SCRAPE) else UNMATCHED_ROUTE


def peer_allowed(remote: str | None, allowed: Sequence[Network]) -> bool:
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return False  # a unix socket or an unknown peer
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in net for net in allowed)


def exposition(metrics: Metrics) -> bytes:
    """The text format. In multiprocess mode the counters come from every worker's files."""
    if multiprocess_dir() is None:
        return generate_latest(metrics.registry) + generate_latest(metrics.live)
    merged = CollectorRegistry()
    MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
    return generate_latest(merged) + generate_latest(metrics.live)


async def metrics_response(metrics: Metrics) -> web.Response:
    if multiprocess_dir() is None:
        body = exposition(metrics)
    else:  # reads files: off the event loop
        body = await asyncio.get_running_loop().run_in_executor(None, exposition, metrics)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


class _Series:
    """The label children of one (route, method, status class), looked up once: ``labels()``
    takes a lock and builds a tuple on every call, which the request path should not pay."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._requests: dict[tuple[str, str, int], Any] = {}
        self._durations: dict[tuple[str, str], Any] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status // 100)
        requests = self._requests.get(key)
        if requests is None:
            requests = self._requests[key] = self._metrics.http_requests.labels(
                route, method, _STATUS_CLASSES.get(status // 100, "5xx"))
        requests.inc()
        duration = self._durations.get(key[:2])
        if duration is None:
            duration = self._durations[key[:2]] = self._metrics.http_duration.labels(route, method)
        duration.observe(seconds)


def observe_middleware(settings: Settings, metrics: Metrics, *, count: bool = True) -> Middleware:
    """``count=False`` (LATCHKEY_METRICS=0) keeps request ids and /metrics but skips the per-request
    counting: the benchmark's baseline."""
    allowed, trusted = settings.metrics_allow, settings.trusted_proxies
    series, in_flight = _Series(metrics), InFlight()
    metrics.live.register(in_flight)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        info = RequestInfo(request_id_of(request, trusted))
        request[REQUEST_INFO] = info
        if request.path == METRICS_PATH and peer_allowed(request.remote, allowed):
            request[SCRAPE] = True
            scrape = await metrics_response(metrics)  # not counted: a scrape would count itself
            scrape.headers[REQUEST_ID_HEADER] = info.request_id
            return scrape
        if not count:
            return await _answer(request, handler, info)
        started = time.perf_counter()
        status = 500
        in_flight.count += 1
        try:
            response = await _answer(request, handler, info)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            in_flight.count -= 1
            method = request.method if request.method in _METHODS else "other"
            info.route = route_template(request)  # the access line's too: worked out once
            series.observe(info.route, method, status, time.perf_counter() - started)

    return middleware


async def _answer(request: web.Request, handler: Handler, info: RequestInfo) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # a redirect or error raised past the error middleware
        exc.headers[REQUEST_ID_HEADER] = info.request_id
        raise
    response.headers[REQUEST_ID_HEADER] = info.request_id
    return response


class InFlight(Collector):
    """Requests being worked on: a plain integer on the request path (one event loop, no lock),
    exported at scrape time; per process in multiprocess mode."""

    def __init__(self) -> None:
        self.count = 0

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily("latchkey_http_requests_in_flight", "HTTP requests being worked on",
                                value=self.count)


class PoolCollector(Collector):
    """asyncpg pool state, read at scrape time (nothing to update on the request path)."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    def collect(self) -> Iterable[Metric]:
        pool = self._pool
        size, idle = pool.get_size(), pool.get_idle_size()
        # asyncpg has no public count of acquirers waiting; they wait on its holder queue.
        getters = getattr(getattr(pool, "_queue", None), "_getters", ())
        waiting = sum(1 for future in getters if not future.done())
        yield GaugeMetricFamily("latchkey_db_pool_max_connections", "PostgreSQL pool maximum size",
                                value=pool.get_max_size())
        yield GaugeMetricFamily("latchkey_db_pool_connections", "PostgreSQL pool connections open", value=size)
        yield GaugeMetricFamily("latchkey_db_pool_connections_in_use", "PostgreSQL connections lent out",
                                value=size - idle)
        yield GaugeMetricFamily("latchkey_db_pool_waiting", "requests waiting for a PostgreSQL connection",
                                value=waiting)


class ConcurrencyLimitCollector(Collector):
    """The load-shedding middleware's current (adaptive) limit, read at scrape time."""

    def __init__(self, limiter: RequestLimiter) -> None:
        self._limiter = limiter

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily("latchkey_concurrency_limit", "requests this process may work on at once now "
                                "(adapts between LATCHKEY_MIN_ and LATCHKEY_MAX_CONCURRENT_REQUESTS)",
                                value=self._limiter.limit)


async def _collect_live(app: web.Application) -> AsyncIterator[None]:
    """State read at scrape time: the PostgreSQL pool (if the service has one) and the load
    shedder's limit. Runs after the service's own contexts: the pool is open by then."""
    collectors: list[Collector] = [PoolCollector(app[POOL])] if POOL in app else []
    collectors += [ConcurrencyLimitCollector(m.limiter) for m in app.middlewares if isinstance(m, LoadShedding)]
    for collector in collectors:
        app[METRICS].live.register(collector)
    yield
    for collector in collectors:
        app[METRICS].live.unregister(collector)


def instrument(app: web.Application) -> Metrics:
    """Metrics, request ids, /metrics and (with OTEL_EXPORTER_OTLP_ENDPOINT) traces for ``app``;
    call after ``app[SETTINGS]`` and the service's cleanup contexts are set."""
    settings = app[SETTINGS]
    metrics = Metrics(per_client=settings.metrics_per_client)
    app[METRICS] = metrics
    middlewares: list[Middleware] = [observe_middleware(settings, metrics, count=settings.metrics_enabled)]
    if settings.otel_endpoint:
        from shared.web.tracing import RedisTracer, tracing_middleware  # the extra latchkey[tracing]

        middlewares.append(tracing_middleware())
        metrics.redis_tracer = RedisTracer()
    for position, middleware in enumerate(middlewares):
        app.middlewares.insert(position, middleware)
    app.cleanup_ctx.append(_collect_live)
    return metrics
