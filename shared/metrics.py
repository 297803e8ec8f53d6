"""Latchkey's Prometheus metrics: what an operator watches, one object per app.

Every family is created here, on the app's own registry, so a reader finds every metric name in
one file and two apps in one process (the tests) never count into each other. Labels are small
fixed sets: a route template, a method, a status class, an outcome or reason key. No user or IP
label ever; a ``client_id`` label only with LATCHKEY_METRICS_PER_CLIENT=1, and only where the
client is authenticated (an unauthenticated client_id is caller-chosen text: unbounded).

With PROMETHEUS_MULTIPROC_DIR set (several worker processes) prometheus_client keeps the values
in files there and ``/metrics`` merges every process's files (shared.web.metrics).
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from shared.models import AuditEvent

# docs/contract.md "Operations": the events of latchkey_security_events_total.
SECURITY_EVENTS = ("code_replay", "refresh_reuse", "pkce_failure", "client_auth_failure", "login_failure",
                   "login_throttled", "bearer_refused")
CODE_OUTCOMES = ("issued", "redeemed", "expired_or_unknown", "replayed")
REFRESH_OUTCOMES = ("rotated", "reuse_detected", "grace_reuse")
LOGIN_OUTCOMES = ("succeeded", "failed", "throttled")
CLIENT_AUTH_REASONS = ("malformed", "unknown_client", "wrong_method", "wrong_secret")
BEARER_REASONS = ("expired", "bad_signature", "unknown_kid", "wrong_audience", "revoked", "wrong_issuer",
                  "not_yet_valid", "malformed", "inactive_user")  # the last: the resource service's own check
BACKCHANNEL_OUTCOMES = ("delivered", "failed", "timeout")
# An event whose client_id is not an authenticated client never gets the per-client label.
_UNAUTHENTICATED_EVENTS = frozenset({"client_auth_failure", "bearer_refused"})

# Seconds: most requests take 1-20 ms; a login waits for argon2 (~50-500 ms).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REDIS_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1.0)


def multiprocess_dir() -> str | None:
    """prometheus_client's multiprocess mode is on when this is set (before the first metric)."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    """The families of one app. ``client(client_id)`` gives the extra label values to pass."""

    def __init__(self, *, per_client: bool = False) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # Collectors read at scrape time (pool and key state): per process even in multiprocess mode.
        self.live = CollectorRegistry(auto_describe=True)
        self.per_client = per_client
        self._series: dict[tuple[Any, ...], Counter] = {}
        r, by_client = self.registry, ("client_id",) if per_client else ()

        self.http_requests = Counter("latchkey_http_requests", "HTTP requests answered, by route template",
                                     ("route", "method", "status_class"), registry=r)
        self.http_duration = Histogram("latchkey_http_request_duration_seconds", "HTTP request latency",
                                       ("route", "method"), buckets=LATENCY_BUCKETS, registry=r)

        self.redis_duration = Histogram("latchkey_redis_command_duration_seconds", "Redis command latency",
                                        ("command",), buckets=REDIS_BUCKETS, registry=r)
        self.redis_errors = Counter("latchkey_redis_command_errors", "Redis commands that failed",
                                    ("command", "error"), registry=r)
        self.jwks_fetches = Counter("latchkey_jwks_fetches", "JWKS fetches by the bearer verifier",
                                    ("outcome",), registry=r)

        self.security_events = Counter("latchkey_security_events", "OAuth security events (see docs/operations.md)",
                                       ("event", *by_client), registry=r)
        self.codes = Counter("latchkey_authorization_codes", "authorization codes by what happened to them",
                             ("outcome", *by_client), registry=r)
        self.refresh_tokens = Counter("latchkey_refresh_tokens", "refresh token rotations and reuses",
                                      ("outcome", *by_client), registry=r)
        self.pkce_failures = Counter("latchkey_pkce_failures", "code exchanges refused for PKCE (RFC 7636 §4.6)",
                                     by_client, registry=r)
        self.client_auth_failures = Counter("latchkey_client_auth_failures", "failed client authentications",
                                            ("reason",), registry=r)
        self.logins = Counter("latchkey_logins", "login attempts by outcome", ("outcome", *by_client), registry=r)
        self.tokens_revoked = Counter("latchkey_tokens_revoked", "tokens revoked at /revoke (RFC 7009)",
                                      ("token_type", *by_client), registry=r)
        self.bearer_refused = Counter("latchkey_bearer_refused", "bearer tokens refused, by reason",
                                      ("reason",), registry=r)
        self.backchannel_logout = Counter("latchkey_backchannel_logout_deliveries",
                                          "back-channel logout deliveries (OIDC Back-Channel Logout)",
                                          ("outcome",), registry=r)
        # Also told of every Redis command when tracing is on (shared.web.tracing).
        self.redis_tracer: Any = None
        self._zero_known_labels()

    def _zero_known_labels(self) -> None:
        """Every known label value exported as 0 from the start: `increase()` and alerts see the
        first event, not only the second (a series that appears at 1 has no increase)."""
        if self.per_client:
            return  # the client label values are not known in advance
        for event in SECURITY_EVENTS:
            self.security_events.labels(event)
        for counter, outcomes in ((self.codes, CODE_OUTCOMES), (self.refresh_tokens, REFRESH_OUTCOMES),
                                  (self.logins, LOGIN_OUTCOMES)):
            for outcome in outcomes:
                counter.labels(outcome)
        self.pkce_failures.inc(0)
        for reason in CLIENT_AUTH_REASONS:
            self.client_auth_failures.labels(reason)
        for reason in BEARER_REASONS:
            self.bearer_refused.labels(reason)
        for outcome in BACKCHANNEL_OUTCOMES:
            self.backchannel_logout.labels(outcome)

    def client(self, client_id: str | None) -> tuple[str, ...]:
        return (client_id or "",) if self.per_client else ()

    # One method per event, called next to where it happens (or its audit record).

    def security_event(self, event: str, client_id: str | None = None) -> None:
        self.security_events.labels(event, *self.client(client_id)).inc()

    def audit_recorded(self, event: AuditEvent) -> None:
        """PgAudit's hook: every audited security event is counted once, where it is recorded."""
        trusted = event.event_type not in _UNAUTHENTICATED_EVENTS
        self.security_event(event.event_type, event.client_id if trusted else None)

    def code(self, outcome: str, client_id: str | None = None) -> None:
        self._outcome(self.codes, outcome, client_id).inc()

    def refresh(self, outcome: str, client_id: str | None = None) -> None:
        self._outcome(self.refresh_tokens, outcome, client_id).inc()

    def _outcome(self, family: Counter, outcome: str, client_id: str | None) -> Counter:
        """The family's series for an outcome (and client), looked up once: ``labels()`` costs
        more than the increment, once per exchange and rotation. As many as ``labels()`` keeps."""
        key = (family, outcome, *self.client(client_id))
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = family.labels(*key[1:])
        return series

    def pkce_failure(self, client_id: str | None = None) -> None:
        (self.pkce_failures.labels(*self.client(client_id)) if self.per_client else self.pkce_failures).inc()

    def client_auth_failure(self, reason: str) -> None:
        self.client_auth_failures.labels(reason).inc()

    def login(self, outcome: str, client_id: str | None = None) -> None:
        self.logins.labels(outcome, *self.client(client_id)).inc()
        if outcome == "failed":
            self.security_event("login_failure", client_id)

    def token_revoked(self, token_type: str, client_id: str | None = None) -> None:
        self.tokens_revoked.labels(token_type, *self.client(client_id)).inc()

    def bearer_token_refused(self, reason: str) -> None:
        self.bearer_refused.labels(reason).inc()
        self.security_event("bearer_refused")

    def redis_observer(self) -> RedisCommandMetrics:
        return RedisCommandMetrics(self)

    def jwks_fetched(self, ok: bool) -> None:
        self.jwks_fetches.labels("ok" if ok else "failed").inc()

    def backchannel_logout_delivery(self, outcome: str) -> None:
        self.backchannel_logout.labels(outcome).inc()


class RedisCommandMetrics:
    """shared.redis_client's observer: latency per command, errors by exception class."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._durations: dict[str, Any] = {}

    def command_done(self, command: str, started_ns: int, ended_ns: int, error: BaseException | None) -> None:
        duration = self._durations.get(command)
        if duration is None:
            duration = self._durations[command] = self._metrics.redis_duration.labels(command)
        duration.observe((ended_ns - started_ns) / 1e9)
        if error is not None:
            self._metrics.redis_errors.labels(command, type(error).__name__).inc()
        if self._metrics.redis_tracer is not None:
            self._metrics.redis_tracer.command_done(command, started_ns, ended_ns, error)
