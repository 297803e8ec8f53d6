"""Opt-in OpenTelemetry traces (the ``latchkey[tracing]`` extra; off unless
OTEL_EXPORTER_OTLP_ENDPOINT is set): a server span per request, a client span per PostgreSQL
statement (opentelemetry-instrumentation-asyncpg) and per Redis command.

The trace context comes from the gateway's W3C ``traceparent`` (W3C Trace Context §3.2), so a
request's spans join the gateway's trace. Spans carry no OAuth parameter: the server span has
the method, the route TEMPLATE and the status, never the URL, query string, headers or body
(codes, tokens and state travel there); SQL statements are recorded without their parameters;
a Redis span names the command only, never its keys or arguments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Middleware
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from shared.web.errors import Handler
from shared.web.metrics import route_template
from shared.web.request_context import request_info

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

TRACER_NAME = "latchkey"
_PROPAGATOR = TraceContextTextMapPropagator()  # traceparent/tracestate only: no baggage taken in


def configure_tracing(endpoint: str, service: str) -> TracerProvider:
    """The process's tracer provider, exporting over OTLP/HTTP to ``endpoint`` in batches (a
    background thread: no export on the request path); asyncpg statements traced from here on."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": f"latchkey-{service}"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")))
    trace.set_tracer_provider(provider)
    statements = AsyncPGInstrumentor(capture_parameters=False)  # type: ignore[no-untyped-call]
    statements.instrument(tracer_provider=provider)
    return provider


def tracing_middleware() -> Middleware:
    """A SERVER span per request, child of the incoming traceparent when there is one."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        parent = _PROPAGATOR.extract(request.headers)
        route = route_template(request)
        tracer = trace.get_tracer(TRACER_NAME)
        with tracer.start_as_current_span(f"{request.method} {route}", context=parent, kind=SpanKind.SERVER,
                                          record_exception=False) as span:
            span.set_attribute("http.request.method", request.method)
            span.set_attribute("http.route", route)
            info = request_info(request)
            if info is not None:
                span.set_attribute("latchkey.request_id", info.request_id)
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                span.set_attribute("http.response.status_code", exc.status)
                raise
            span.set_attribute("http.response.status_code", response.status)
            if response.status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            if info is not None and info.error is not None:
                span.set_attribute("latchkey.error", info.error)  # a fixed code, never a value
            return response

    return middleware


class RedisTracer:
    """A CLIENT span per Redis command, built after it ran (shared.redis_client's observer):
    the command's name only."""

    def command_done(self, command: str, started_ns: int, ended_ns: int, error: BaseException | None) -> None:
        span = trace.get_tracer(TRACER_NAME).start_span(
            f"redis {command}", kind=SpanKind.CLIENT, start_time=started_ns,
            attributes={"db.system.name": "redis", "db.operation.name": command})
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end(end_time=ended_ns)
