"""Opt-in tracing (latchkey[tracing]): a request through the token service is a SERVER span that
continues the gateway's W3C trace (traceparent), with client spans for PostgreSQL and Redis, and
no span attribute holds a code, verifier, secret or token."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.integration.token.helpers import exchange, issue_code, running

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN_ID = "00f067aa0ba902b7"


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)  # once per process: the global the middleware reads
    if trace.get_tracer_provider() is not provider:
        pytest.skip("another test set the process's tracer provider first")
    asyncpg_spans = AsyncPGInstrumentor(capture_parameters=False)  # as shared.web.tracing.configure_tracing
    asyncpg_spans.instrument(tracer_provider=provider)
    yield exporter
    asyncpg_spans.uninstrument()


async def test_a_token_request_continues_the_gateways_trace_and_leaks_nothing(spans, settings, redis, pool,
                                                                             app_client, user):
    traced = dataclasses.replace(settings, otel_endpoint="http://127.0.0.1:4318")
    issued = await issue_code(redis, traced, app_client, user)
    async with running(traced) as http:
        spans.clear()
        response = await exchange(http, app_client, issued)
        assert response.status == 200
        tokens = await response.json()
        replay = await http.post("/token", data={"grant_type": "authorization_code", "code": issued.code,
                                                 "code_verifier": issued.verifier or ""},
                                 headers={"traceparent": f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01",
                                          "Authorization": "Basic " + "x" * 8})
        assert replay.status == 401
    finished = spans.get_finished_spans()
    server = [s for s in finished if s.kind == SpanKind.SERVER and s.context.trace_id == int(TRACE_ID, 16)]
    assert len(server) == 1, [s.name for s in finished]
    span = server[0]
    assert span.parent is not None and span.parent.span_id == int(PARENT_SPAN_ID, 16)
    assert span.name == "POST /token"
    assert span.attributes["http.route"] == "/token" and span.attributes["http.response.status_code"] == 401
    assert any(s.name.startswith("redis ") for s in finished), "no Redis span"
    assert any(s.kind == SpanKind.CLIENT and (s.attributes or {}).get("db.system") == "postgresql"
               for s in finished), "no PostgreSQL span"
    # Without a traceparent a request starts its own trace.
    assert any(s.kind == SpanKind.SERVER and s.parent is None for s in finished)
    secrets = [issued.code, issued.verifier, app_client.secret, tokens["access_token"], tokens["refresh_token"]]
    for finished_span in finished:
        text = f"{finished_span.name} {dict(finished_span.attributes or {})} {finished_span.events}"
        assert not any(secret and secret in text for secret in secrets), text
