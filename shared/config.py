"""One frozen settings object, read from the environment and validated at start.

Nothing here is a module-level singleton: each process calls ``Settings.from_env()`` once and
hands the result to the app factories. Every lifetime and limit is a named field.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import parse_qs, urlsplit

from shared.bearer.config import (
    DEFAULT_JWKS_CACHE_CAP,
    DEFAULT_JWKS_FETCH_TIMEOUT,
    DEFAULT_JWKS_MAX_AGE,
    DEFAULT_JWKS_MAX_BYTES,
    DEFAULT_JWKS_REFETCH_COOLDOWN,
    DEFAULT_LEEWAY,
    DEFAULT_REDIS_PREFIX,
    DEFAULT_VERIFIED_TOKEN_CACHE_SIZE,
    BearerConfig,
)
from shared.errors import ConfigError
from shared.redis_topology import parse_redis_url, prefix_pins_slot

# Published in the README as an example; refused outside dev mode.
DEV_KEY_ENCRYPTION_KEY = "bGF0Y2hrZXktZGV2LW9ubHkta2V5LWRvLW5vdC11c2U="
SIGNING_ALGS = ("RS256", "ES256", "EdDSA")


@dataclass(frozen=True, slots=True)
class EnvVar:
    name: str
    parse: Callable[[str], Any]
    help: str


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"must be an integer, got {raw!r}") from None
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}, got {value}")
        return value

    return parse


def _bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"must be true or false, got {raw!r}")


def _base_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an absolute http(s) URL, got {raw!r}")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or fragment")
    return raw.rstrip("/")


# libpq's values (asyncpg reads the same ones): with several hosts, read-write / primary makes
# a connection skip a standby, so a promoted server is found after a PostgreSQL failover.
TARGET_SESSION_ATTRS = ("any", "primary", "standby", "prefer-standby", "read-write", "read-only")


def _postgres_dsn(raw: str) -> str:
    """A libpq URI, also with several hosts: ``postgresql://u@h1:5432,h2:5432/db?target_session_attrs=read-write``."""
    parts = urlsplit(raw)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError("must be a URL starting with postgres:// or postgresql://")
    hosts = parts.netloc.rpartition("@")[2]
    for entry in hosts.split(",") if hosts else ():  # no host at all: libpq's default socket
        # The URL is not echoed in an error: it may hold a password.
        host, _, port = entry[1:].partition("]") if entry.startswith("[") else entry.partition(":")
        port = port.removeprefix(":") if entry.startswith("[") else port
        if not host:
            raise ValueError("names an empty host (hosts are host[:port], separated by commas)")
        if port and not (port.isdigit() and 1 <= int(port) <= 65535):
            raise ValueError("has an invalid port (not a number up to 65535)")
    attrs = parse_qs(parts.query).get("target_session_attrs", [])
    if any(value not in TARGET_SESSION_ATTRS for value in attrs):
        raise ValueError(f"target_session_attrs must be one of {', '.join(TARGET_SESSION_ATTRS)}")
    return raw


def _redis_url(raw: str) -> str:
    parse_redis_url(raw)  # raises ValueError naming the fault
    return raw


def _key_encryption_key(raw: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("must be 32 bytes, base64url-encoded") from None
    if len(key) != 32:
        raise ValueError(f"must decode to 32 bytes (AES-256), got {len(key)}")
    return key


def _alg(raw: str) -> str:
    if raw not in SIGNING_ALGS:
        raise ValueError(f"must be one of {', '.join(SIGNING_ALGS)}, got {raw!r}")
    return raw


def _alg_list(raw: str) -> tuple[str, ...]:
    algs = tuple(dict.fromkeys(a.strip() for a in raw.split(",") if a.strip()))
    if not algs:
        raise ValueError("must name at least one algorithm")
    return tuple(_alg(a) for a in algs)


def _networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    try:
        return tuple(ipaddress.ip_network(part.strip()) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"must be comma-separated addresses or CIDR networks ({exc})") from None


def _log_format(raw: str) -> str:
    if raw not in ("text", "json"):
        raise ValueError(f"must be text or json, got {raw!r}")
    return raw


def _setting(env: str, default: Any, parse: Callable[[str], Any], help: str) -> Any:
    return field(default=default, metadata={"env": EnvVar(env, parse, help)})


MINUTE, HOUR, DAY = 60, 3600, 86400
# The longest access-token lifetime any setting allows: how long a "revoked before" time must last.
ACCESS_TOKEN_TTL_MAX = DAY


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = _setting("DATABASE_URL", "", _postgres_dsn, "PostgreSQL DSN, several hosts allowed (required)")
    redis_url: str = _setting("REDIS_URL", "", _redis_url,
                              "Redis URL, server >= 6.2: redis://, redis+sentinel:// or redis+cluster:// (required)")
    redis_prefix: str = _setting("LATCHKEY_REDIS_PREFIX", DEFAULT_REDIS_PREFIX, str, "prefix of every Redis key")
    dev_mode: bool = _setting("LATCHKEY_DEV", False, _bool, "allow unsafe dev settings (http issuer, dev key)")
    issuer: str = _setting("LATCHKEY_ISSUER", "http://localhost:8001", _base_url, "issuer; public URL of authorize")
    token_url: str = _setting("LATCHKEY_TOKEN_URL", "http://localhost:8002", _base_url, "public URL of token")
    resource_url: str = _setting("LATCHKEY_RESOURCE_URL", "http://localhost:8003", _base_url, "public URL of resource")
    audience: str = _setting("LATCHKEY_AUDIENCE", "", str, "access-token audience (default: resource URL)")
    key_encryption_key: bytes = _setting(
        "LATCHKEY_KEY_ENCRYPTION_KEY", b"", _key_encryption_key, "AES-256 key that encrypts signing keys at rest"
    )
    host: str = _setting("LATCHKEY_HOST", "127.0.0.1", str, "address the services listen on")
    authorize_port: int = _setting("LATCHKEY_AUTHORIZE_PORT", 8001, _int_between(1, 65535), "authorize port")
    token_port: int = _setting("LATCHKEY_TOKEN_PORT", 8002, _int_between(1, 65535), "token port")
    resource_port: int = _setting("LATCHKEY_RESOURCE_PORT", 8003, _int_between(1, 65535), "resource port")
    # The admin API has its own address, loopback unless chosen: LATCHKEY_HOST does not move it.
    admin_host: str = _setting("LATCHKEY_ADMIN_HOST", "127.0.0.1", str, "address the admin API listens on")
    admin_port: int = _setting("LATCHKEY_ADMIN_PORT", 8004, _int_between(1, 65535), "admin API port")
    admin_page_size: int = _setting("LATCHKEY_ADMIN_PAGE_SIZE", 50, _int_between(1, 1000), "admin API list page size when no limit is given")
    admin_max_page_size: int = _setting("LATCHKEY_ADMIN_MAX_PAGE_SIZE", 200, _int_between(1, 1000), "largest limit an admin API list accepts")
    admin_rate_limit_token: int = _setting("LATCHKEY_ADMIN_RATE_LIMIT_PER_TOKEN", 600, _int_between(0, 10**6), "admin API requests per admin token per minute (0: off)")
    admin_rate_limit_ip_failures: int = _setting("LATCHKEY_ADMIN_RATE_LIMIT_AUTH_FAILURES_PER_IP", 20, _int_between(0, 10**6), "admin API requests with a missing or wrong token per client address per minute before that address is limited (0: off)")
    db_pool_min: int = _setting("LATCHKEY_DB_POOL_MIN", 2, _int_between(1, 100), "PostgreSQL pool minimum")
    db_pool_max: int = _setting("LATCHKEY_DB_POOL_MAX", 10, _int_between(1, 500), "PostgreSQL pool maximum")
    max_body_bytes: int = _setting("LATCHKEY_MAX_BODY_BYTES", 16384, _int_between(1024, 1 << 20), "request body limit")
    max_params: int = _setting("LATCHKEY_MAX_PARAMS", 50, _int_between(10, 1000), "most parameters in a request")
    code_ttl: int = _setting("LATCHKEY_CODE_TTL_SECONDS", 60, _int_between(1, 600), "authorization code lifetime")
    code_replay_window: int = _setting(
        "LATCHKEY_CODE_REPLAY_WINDOW_SECONDS", 15 * MINUTE, _int_between(60, DAY), "how long a used code is remembered"
    )
    code_redemption_sweep_interval: int = _setting(
        "LATCHKEY_CODE_REDEMPTION_SWEEP_SECONDS", MINUTE, _int_between(1, HOUR),
        "how often the token service deletes code redemptions past their replay window",
    )
    transaction_ttl: int = _setting("LATCHKEY_TRANSACTION_TTL_SECONDS", 10 * MINUTE, _int_between(60, HOUR), "login/consent transaction lifetime")
    session_ttl: int = _setting("LATCHKEY_SESSION_TTL_SECONDS", 8 * HOUR, _int_between(60, 30 * DAY), "login session lifetime")
    login_max_failures_user: int = _setting("LATCHKEY_LOGIN_MAX_FAILURES_PER_USER", 5, _int_between(1, 1000), "failed logins per user per window")
    login_max_failures_ip: int = _setting("LATCHKEY_LOGIN_MAX_FAILURES_PER_IP", 20, _int_between(1, 10000), "failed logins per IP per window")
    login_max_in_flight_ip: int = _setting("LATCHKEY_LOGIN_MAX_IN_FLIGHT_PER_IP", 32, _int_between(1, 10000), "login attempts one IP may have in flight at once")
    login_failure_window: int = _setting("LATCHKEY_LOGIN_FAILURE_WINDOW_SECONDS", 15 * MINUTE, _int_between(10, DAY), "throttle window")
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = _setting(
        "LATCHKEY_TRUSTED_PROXIES", (), _networks,
        "gateways (CIDRs) whose X-Forwarded-For names the client address, e.g. 10.0.0.0/8",
    )
    require_pkce: bool = _setting("LATCHKEY_REQUIRE_PKCE", True, _bool, "require PKCE for confidential clients too (OAuth 2.1)")
    access_token_ttl: int = _setting("LATCHKEY_ACCESS_TOKEN_TTL_SECONDS", 10 * MINUTE, _int_between(30, ACCESS_TOKEN_TTL_MAX), "access token lifetime")
    id_token_ttl: int = _setting("LATCHKEY_ID_TOKEN_TTL_SECONDS", 10 * MINUTE, _int_between(30, DAY), "ID token lifetime")
    refresh_token_ttl: int = _setting("LATCHKEY_REFRESH_TOKEN_TTL_SECONDS", 30 * DAY, _int_between(60, 365 * DAY), "refresh absolute lifetime")
    refresh_idle_ttl: int = _setting("LATCHKEY_REFRESH_IDLE_TTL_SECONDS", 7 * DAY, _int_between(60, 365 * DAY), "refresh idle lifetime")
    refresh_grace: int = _setting("LATCHKEY_REFRESH_GRACE_SECONDS", 0, _int_between(0, 300), "reuse grace for a lost response")
    signing_alg: str = _setting("LATCHKEY_SIGNING_ALG", "RS256", _alg, "access-token signing algorithm")
    id_token_signing_alg: str = _setting(
        "LATCHKEY_ID_TOKEN_SIGNING_ALG", "ES256", _alg,
        "ID-token signing algorithm of clients that registered none (RS256 keys are always kept too)",
    )
    jwks_max_age: int = _setting("LATCHKEY_JWKS_MAX_AGE_SECONDS", DEFAULT_JWKS_MAX_AGE, _int_between(0, DAY), "JWKS Cache-Control max-age")
    key_announce: int = _setting(
        "LATCHKEY_KEY_ANNOUNCE_SECONDS", 10 * MINUTE, _int_between(1, 30 * DAY),
        "a next key is published this long before it signs (more than JWKS max-age + refetch cooldown + key poll)",
    )
    key_rotation_interval: int = _setting("LATCHKEY_KEY_ROTATION_SECONDS", 30 * DAY, _int_between(0, 365 * DAY), "automatic rotation period (0: off)")
    key_poll_interval: int = _setting("LATCHKEY_KEY_POLL_SECONDS", 5, _int_between(1, 300), "how often the token service looks for new signing keys")
    key_rotation_check: int = _setting("LATCHKEY_KEY_ROTATION_CHECK_SECONDS", 60, _int_between(1, DAY), "how often the rotation schedule is checked")
    revocation_retry: int = _setting(
        "LATCHKEY_REVOCATION_RETRY_SECONDS", 5, _int_between(1, 300),
        "longest a revocation that could not reach Redis waits for its next try, once Redis is back",
    )
    # A denylist write the primary acknowledged is lost if it dies before a replica copied it;
    # WAIT tells the writer, and an unconfirmed write keeps its PostgreSQL record (re-applied).
    revocation_replicas: int = _setting(
        "LATCHKEY_REVOCATION_REPLICAS", 0, _int_between(0, 16),
        "Redis replicas that must confirm a revocation's denylist write (WAIT) before its PostgreSQL record is dropped (0: none, for one Redis without replicas)",
    )
    revocation_wait_ms: int = _setting(
        "LATCHKEY_REVOCATION_WAIT_MS", 100, _int_between(1, 2000),  # within the Redis socket timeout (5 s)
        "longest a revocation waits for those replicas; unconfirmed, its record stays and is written again every LATCHKEY_REVOCATION_RETRY_SECONDS",
    )
    # OIDC Back-Channel Logout 1.0 §2.5: the token service POSTs each logout token in the background.
    backchannel_logout_timeout: int = _setting(
        "LATCHKEY_BACKCHANNEL_LOGOUT_TIMEOUT_SECONDS", 5, _int_between(1, 60),
        "longest one back-channel logout POST may take (connect, send and answer) before it counts as a timeout",
    )
    backchannel_logout_attempts: int = _setting(
        "LATCHKEY_BACKCHANNEL_LOGOUT_ATTEMPTS", 5, _int_between(1, 20),
        "tries per back-channel logout (the first included); 5xx, 429, timeouts and connection errors are retried",
    )
    backchannel_logout_backoff_ms: int = _setting(
        "LATCHKEY_BACKCHANNEL_LOGOUT_BACKOFF_MS", 1000, _int_between(10, 60000),
        "wait before the first retry of a back-channel logout; it doubles after each failed try",
    )
    backchannel_logout_concurrency: int = _setting(
        "LATCHKEY_BACKCHANNEL_LOGOUT_CONCURRENCY", 16, _int_between(1, 1000),
        "back-channel logouts one token service process delivers at once",
    )
    token_issue_deadline: int = _setting("LATCHKEY_TOKEN_ISSUE_DEADLINE_SECONDS", 5, _int_between(1, 60), "longest a code exchange may take once its code is consumed")
    client_cache_ttl: int = _setting("LATCHKEY_CLIENT_CACHE_SECONDS", 30, _int_between(0, HOUR), "how long a client lookup is cached")
    # Two polls must fit in the 5 s within which a disabled or re-keyed client is gone (CONTRACT).
    client_change_poll: int = _setting("LATCHKEY_CLIENT_CHANGE_POLL_SECONDS", 1, _int_between(1, 2), "how often each service checks whether a client changed (its cache is emptied when one did)")
    # OWASP's argon2id settings of equal defence: 19 MiB x 2 passes, 12 x 3, 9 x 4 or 7 x 5. The last
    # costs the same CPU and a third of the memory each concurrent login holds (LATCHKEY_HASH_WORKERS).
    argon2_time_cost: int = _setting("LATCHKEY_ARGON2_TIME_COST", 5, _int_between(1, 20), "argon2id iterations")
    argon2_memory_kib: int = _setting("LATCHKEY_ARGON2_MEMORY_KIB", 7168, _int_between(8, 4 << 20), "argon2id memory (KiB)")
    argon2_parallelism: int = _setting("LATCHKEY_ARGON2_PARALLELISM", 1, _int_between(1, 16), "argon2id lanes")
    hash_workers: int = _setting("LATCHKEY_HASH_WORKERS", 2, _int_between(1, 64), "threads for password hashing")
    jwks_url: str = _setting("LATCHKEY_JWKS_URL", "", str, "JWKS the resource service trusts (default: token URL)")
    jwks_refetch_cooldown: int = _setting("LATCHKEY_JWKS_REFETCH_COOLDOWN_SECONDS", DEFAULT_JWKS_REFETCH_COOLDOWN, _int_between(1, HOUR), "least time between JWKS refetches")
    clock_leeway: int = _setting("LATCHKEY_CLOCK_LEEWAY_SECONDS", DEFAULT_LEEWAY, _int_between(0, 300), "allowed clock skew")
    check_revocation: bool = _setting("LATCHKEY_CHECK_REVOCATION", True, _bool, "resource checks the jti denylist")
    userinfo_cache_ttl: int = _setting(
        "LATCHKEY_USERINFO_CACHE_SECONDS", 3, _int_between(0, 5),
        "how long /userinfo reuses a user's claims, so how long a disabled user's token still gets them (0: off)",
    )
    userinfo_cache_size: int = _setting("LATCHKEY_USERINFO_CACHE_SIZE", 10000, _int_between(1, 1_000_000), "most users whose /userinfo claims are cached")
    verified_token_cache_size: int = _setting(
        "LATCHKEY_VERIFIED_TOKEN_CACHE_SIZE", DEFAULT_VERIFIED_TOKEN_CACHE_SIZE, _int_between(0, 100_000),
        "most access tokens a bearer verifier remembers as verified, so their signature is checked once (about 1.5 KB each; 0: every time)",
    )
    bearer_algs: tuple[str, ...] = _setting(
        "LATCHKEY_BEARER_ALGS", SIGNING_ALGS, _alg_list, "algorithms a bearer verifier accepts (comma-separated)"
    )
    jwks_fetch_timeout: int = _setting("LATCHKEY_JWKS_FETCH_TIMEOUT_SECONDS", DEFAULT_JWKS_FETCH_TIMEOUT, _int_between(1, 60), "JWKS fetch timeout")
    jwks_max_bytes: int = _setting("LATCHKEY_JWKS_MAX_BYTES", DEFAULT_JWKS_MAX_BYTES, _int_between(1024, 1 << 20), "largest JWKS accepted")
    jwks_cache_cap: int = _setting("LATCHKEY_JWKS_CACHE_MAX_SECONDS", DEFAULT_JWKS_CACHE_CAP, _int_between(0, DAY), "longest a JWKS is cached whatever max-age says, and how long stale keys serve while refetches fail")
    retry_after: int = _setting("LATCHKEY_RETRY_AFTER_SECONDS", 2, _int_between(1, HOUR), "Retry-After of every 503 answer")
    max_concurrent_requests: int = _setting(
        "LATCHKEY_MAX_CONCURRENT_REQUESTS", 0, _int_between(0, 10000),
        "most requests one service process works on at once (0: its own default, authorize 16, token 8, resource 64, admin 8)",
    )
    min_concurrent_requests: int = _setting(
        "LATCHKEY_MIN_CONCURRENT_REQUESTS", 0, _int_between(0, 10000),
        "fewest requests one service process keeps working on at once: between this and the maximum the limit adapts to how busy its event loop is (0: its own default, token 2; the others keep their maximum, a fixed limit)",
    )
    request_queue_size: int = _setting("LATCHKEY_REQUEST_QUEUE_SIZE", 64, _int_between(0, 10000), "requests that may wait for a place; more get 503 at once")
    request_queue_wait_ms: int = _setting("LATCHKEY_REQUEST_QUEUE_WAIT_MS", 250, _int_between(1, 60000), "longest a request of a burst waits for a place before 503")
    request_queue_overload_wait_ms: int = _setting("LATCHKEY_REQUEST_QUEUE_OVERLOAD_WAIT_MS", 10, _int_between(1, 60000), "CoDel target: once the oldest waiting request has waited longer than this for 100 ms (sustained overload), newcomers wait at most this long")
    ready_probe_interval: int = _setting("LATCHKEY_READY_PROBE_SECONDS", 1, _int_between(1, 60), "how often /readyz's background probe checks PostgreSQL and Redis")
    ready_probe_timeout: int = _setting("LATCHKEY_READY_PROBE_TIMEOUT_SECONDS", 1, _int_between(1, 60), "timeout of each readiness probe")
    shutdown_delay: int = _setting(
        "LATCHKEY_SHUTDOWN_DELAY_SECONDS", 2, _int_between(0, 300),
        "on SIGTERM, how long /readyz fails while the listener still serves, so a load balancer stops routing here first",
    )
    shutdown_grace: int = _setting("LATCHKEY_SHUTDOWN_GRACE_SECONDS", 15, _int_between(1, 600), "on SIGTERM, longest in-flight requests may take to finish once the listener closed")
    rate_limit_client: int = _setting("LATCHKEY_RATE_LIMIT_PER_CLIENT", 6000, _int_between(0, 10**7), "token/revocation/introspection requests per client per minute (0: off)")
    rate_limit_ip: int = _setting("LATCHKEY_RATE_LIMIT_PER_IP", 12000, _int_between(0, 10**7), "token/revocation/introspection requests per client address per minute (0: off)")
    rate_limit_client_failures: int = _setting("LATCHKEY_RATE_LIMIT_AUTH_FAILURES_PER_CLIENT", 50, _int_between(0, 10**6), "failed client authentications per client_id per minute before it is limited (0: off)")
    rate_limit_ip_failures: int = _setting("LATCHKEY_RATE_LIMIT_AUTH_FAILURES_PER_IP", 100, _int_between(0, 10**6), "failed client authentications per client address per minute before it is limited (0: off)")
    metrics_enabled: bool = _setting("LATCHKEY_METRICS", True, _bool, "count requests and events for /metrics (0: off, the benchmark's baseline)")
    metrics_allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = _setting(
        "LATCHKEY_METRICS_ALLOW", _networks("127.0.0.0/8,::1"), _networks,
        "peers (CIDRs, the TCP peer address) that may read /metrics; everyone else gets 404",
    )
    metrics_per_client: bool = _setting("LATCHKEY_METRICS_PER_CLIENT", False, _bool, "add a client_id label to the security and token counters (one series per client)")
    access_log: bool = _setting("LATCHKEY_ACCESS_LOG", True, _bool, "one log line per request (0: off, the benchmark's baseline)")
    log_format: str = _setting("LATCHKEY_LOG_FORMAT", "text", _log_format, "log line format: text (dev) or json (one object a line)")
    otel_endpoint: str = _setting("OTEL_EXPORTER_OTLP_ENDPOINT", "", str, "OTLP/HTTP collector URL; set to trace requests (needs latchkey[tracing])")
    note_max_chars: int = _setting("LATCHKEY_NOTE_MAX_CHARS", 2000, _int_between(1, 10000), "longest note body")
    notes_page_size: int = _setting("LATCHKEY_NOTES_PAGE_SIZE", 50, _int_between(1, 500), "most notes one GET returns")

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> Settings:
        values: dict[str, Any] = {}
        for f in fields(cls):
            var: EnvVar = f.metadata["env"]
            raw = env.get(var.name)
            if raw is None or raw == "":
                continue
            try:
                values[f.name] = var.parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{var.name} {exc}") from None
        values.update(overrides)
        settings = cls(**values)
        settings.validate()
        return settings

    @property
    def key_ring_algs(self) -> tuple[str, ...]:
        """The algorithms the key ring keeps an active key for. RS256 always: OpenID Connect
        requires every provider to be able to sign ID tokens with it (Core §15.1)."""
        return tuple(dict.fromkeys((self.signing_alg, self.id_token_signing_alg, "RS256")))

    @property
    def access_audience(self) -> str:
        return self.audience or self.resource_url

    @property
    def userinfo_audience(self) -> str:
        """The userinfo endpoint's URL (shared.endpoints.USERINFO_PATH): an access token for another
        API, issued to an OpenID request, names it too, so /userinfo accepts it (OIDC Core §5.3.1)."""
        return f"{self.resource_url}/userinfo"

    @property
    def trusted_jwks_url(self) -> str:
        return self.jwks_url or f"{self.token_url}/jwks"  # shared.endpoints.JWKS_PATH

    def bearer_config(self) -> BearerConfig:
        """What the bearer verifier (shared.bearer) checks tokens against, from these settings."""
        return BearerConfig(
            issuer=self.issuer, audience=self.access_audience, jwks_url=self.trusted_jwks_url,
            also_audiences=(self.userinfo_audience,), algorithms=self.bearer_algs, leeway=self.clock_leeway,
            check_revocation=self.check_revocation,
            redis_prefix=self.redis_prefix, jwks_fetch_timeout=self.jwks_fetch_timeout,
            jwks_max_bytes=self.jwks_max_bytes, jwks_default_max_age=self.jwks_max_age,
            jwks_refetch_cooldown=self.jwks_refetch_cooldown, jwks_cache_cap=self.jwks_cache_cap,
            verified_token_cache_size=self.verified_token_cache_size,
        )

    @property
    def issuer_is_https(self) -> bool:
        return self.issuer.startswith("https://")

    def require_key_encryption_key(self) -> bytes:
        """Only the token service and `latchkey keys` hold the key that decrypts signing keys;
        the other services run without it, so their compromise does not expose the keys."""
        if not self.key_encryption_key:
            raise ConfigError("LATCHKEY_KEY_ENCRYPTION_KEY is required (32 random bytes, base64url)")
        return self.key_encryption_key

    def validate(self) -> None:
        """Refuse settings that are unsafe or inconsistent; each message names the variable."""
        if not self.database_url:
            raise ConfigError("DATABASE_URL is required (e.g. postgresql://user@host:5432/latchkey)")
        if not self.redis_url:
            raise ConfigError("REDIS_URL is required (e.g. redis://localhost:6379/0)")
        # A verifier may have fetched the JWKS just before a new key appeared in it: it trusts
        # that copy for the max-age, and an unknown kid refetches at most once per cooldown, so
        # it may learn the key only max-age + cooldown later; the token service's replicas see
        # an announced key up to one poll late. A key signing sooner is refused by verifiers.
        if self.key_announce <= self.jwks_max_age + self.jwks_refetch_cooldown + self.key_poll_interval:
            raise ConfigError(
                f"LATCHKEY_KEY_ANNOUNCE_SECONDS ({self.key_announce}) must exceed LATCHKEY_JWKS_MAX_AGE_SECONDS "
                f"({self.jwks_max_age}) + LATCHKEY_JWKS_REFETCH_COOLDOWN_SECONDS ({self.jwks_refetch_cooldown}) + "
                f"LATCHKEY_KEY_POLL_SECONDS ({self.key_poll_interval}), so every verifier can fetch a key before it signs")
        if parse_redis_url(self.redis_url).kind == "cluster" and not prefix_pins_slot(self.redis_prefix):
            # Latchkey's scripts, transactions and MGETs span several keys: in a cluster they
            # must all hash to one slot, which a hash tag in the shared prefix guarantees.
            raise ConfigError("LATCHKEY_REDIS_PREFIX must contain a hash tag with redis+cluster://, "
                              f"e.g. {{latchkey}}: (got {self.redis_prefix!r})")
        if self.revocation_replicas and parse_redis_url(self.redis_url).kind == "cluster":
            # redis-py sends WAIT to every cluster node, not on the connection that wrote.
            raise ConfigError("LATCHKEY_REVOCATION_REPLICAS is not supported with redis+cluster:// yet (set 0)")
        if self.admin_page_size > self.admin_max_page_size:
            raise ConfigError("LATCHKEY_ADMIN_PAGE_SIZE must not exceed LATCHKEY_ADMIN_MAX_PAGE_SIZE")
        if self.db_pool_min > self.db_pool_max:
            raise ConfigError("LATCHKEY_DB_POOL_MIN must not exceed LATCHKEY_DB_POOL_MAX")
        if self.max_concurrent_requests and self.min_concurrent_requests > self.max_concurrent_requests:
            raise ConfigError("LATCHKEY_MIN_CONCURRENT_REQUESTS must not exceed LATCHKEY_MAX_CONCURRENT_REQUESTS")
        if self.dev_mode:
            return
        if self.key_encryption_key == _key_encryption_key(DEV_KEY_ENCRYPTION_KEY):
            raise ConfigError("LATCHKEY_KEY_ENCRYPTION_KEY is the published dev key; generate your own or set LATCHKEY_DEV=1")
        for name, url in (("LATCHKEY_ISSUER", self.issuer), ("LATCHKEY_TOKEN_URL", self.token_url),
                          ("LATCHKEY_RESOURCE_URL", self.resource_url)):
            if url.startswith("http://") and not is_loopback_url(url):
                raise ConfigError(f"{name} must be https outside dev mode (loopback http is allowed), got {url}")


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def documented_variables() -> list[tuple[str, str, Any]]:
    """(name, help, default) of every variable, for the README table and `--help`."""
    return [(f.metadata["env"].name, f.metadata["env"].help, f.default) for f in fields(Settings)]
