"""Request rate limits per caller and per address, and stricter ones for failed authentication.

Used by the token service for /token, /revoke and /introspect (one budget across the three), and
meant for any other API that authenticates callers (the admin API): build a ``RateLimiter`` with
a scope name and four per-minute limits, call ``admit`` once the caller's claimed identity and
address are known, and ``record_failure`` when its authentication fails.

Over a limit the answer is 429 (RFC 6585 §4) with ``Retry-After`` and an RFC 6749 §5.2 body.
There is no OAuth error code for "too many requests": ``slow_down`` belongs to the device grant
(RFC 8628 §3.5) and a client of the token endpoint must not read it as a polling hint; an
unregistered code would be unknown to every client library. So the body says
``temporarily_unavailable``, the registered code (RFC 6749 §4.1.2.1) whose meaning, "cannot
handle the request now, retry later", is what a limited client should do; the 429 status and
``Retry-After`` say why and when.

Limits are keyed by the *claimed* client_id, before the secret is checked: the failed-auth
limit has to count guesses against a client that the guesser cannot authenticate as. That lets
someone who knows a client_id spend its failure budget (as account lockout does); the per-address
limits bound what one address can do, and the audit trail records who crossed a limit.

Every failure is charged in Redis, and the charge says how long that caller is now refused and
how long its failures stay on record (until its bucket has refilled); the process remembers
both. When a limiter has no request limit (the failure limits alone apply), a caller with no
failure recorded by this process is admitted without a round trip; a refused one is refused
here for as long as the charge said; any other with failures on record here is decided by
Redis, where every process's failures count. A caller over a failure limit through other
processes thus gets at most one more guess per process until its bucket refills: the limit plus
one per process. With a request limit on, every admission is the one round trip it needs anyway.

If Redis cannot be reached the limiter admits (fails open) and logs: a rate limit protects the
service and the secrets, and refusing every request because the limiter's store is down would
turn a Redis outage into a full outage of endpoints that do not otherwise need Redis
(introspection, revocation of refresh tokens).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from redis.asyncio import Redis

from shared.bearer.batching import Batched
from shared.bearer.errors import OAuthError
from shared.config import Settings
from shared.stores.outages import STORE_ERRORS
from shared.stores.redis_rate_limits import Bucket, Charged, RedisRateLimits

log = logging.getLogger("latchkey.rate_limits")

PERIOD = 60  # every limit is "per minute"
_WARN_EVERY = 10.0  # seconds between "limiter store down" warnings, not one per request
_MAX_ON_RECORD = 10_000  # failure buckets with failures on record this process remembers


class RateLimited(OAuthError):
    """429 Too Many Requests (RFC 6585 §4); see the module docstring for the error code."""

    error = "temporarily_unavailable"
    status = 429

    def __init__(self, retry_after: float, description: str = "rate limit exceeded") -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"{description}; retry after {self.retry_after} s")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-minute limits; 0 turns one off."""

    per_subject: int
    per_address: int
    failures_per_subject: int
    failures_per_address: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(settings.rate_limit_client, settings.rate_limit_ip,
                   settings.rate_limit_client_failures, settings.rate_limit_ip_failures)


def _subject_key(value: str) -> str:
    # Caller-controlled text: a fixed-size digest keeps keys short whatever a client_id holds.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class RateLimiter:
    def __init__(self, redis: Redis, prefix: str, scope: str, limits: Limits) -> None:
        self._store = RedisRateLimits(redis, prefix)
        # Requests admitted in the same moment share one script call (one round trip, one command).
        self._admissions: Batched[list[Bucket], float] = Batched(self._store.admit_many)
        self._scope = scope
        self._limits = limits
        self._warned_at = float("-inf")
        # Only failure limits: a request has nothing to charge, so callers without failures need
        # no round trip. A property of the limiter, not of the request, so a right secret and a
        # wrong one take the same path (no oracle in which answer comes back).
        self._failures_only = not (limits.per_subject or limits.per_address)
        # Failure bucket key -> (refused until, failures on record until), monotonic, as charged here.
        self._on_record: dict[str, tuple[float, float]] = {}

    def _bucket(self, kind: str, value: str, limit: int, charge: bool) -> Bucket:
        return Bucket(self._store.key(f"{self._scope}:{kind}:{_subject_key(value)}"), limit, PERIOD, charge)

    def _buckets(self, subject: str | None, address: str, *, failures: bool) -> list[Bucket]:
        """The buckets that apply: for a request, its own (charged) and the failure buckets
        (only read: a caller over its failure limit is refused whatever it sends now)."""
        limits = self._limits
        wanted = [("fc", subject, limits.failures_per_subject), ("fa", address, limits.failures_per_address)]
        if not failures:
            wanted = [("c", subject, limits.per_subject), ("a", address, limits.per_address)] + wanted
        return [self._bucket(kind, value, limit, charge=failures or kind in ("c", "a"))
                for kind, value, limit in wanted if value and limit > 0]

    async def admit(self, subject: str | None, address: str) -> None:
        """Raises RateLimited when ``subject`` (the claimed client) or ``address`` is over a
        limit; otherwise counts this request. One Redis round trip, shared with the requests
        admitted in the same moment; none when all are off, and none for a caller without
        failures on record here when this limiter has only failure limits (``_decided_here``)."""
        if self._failures_only and not self._on_record:
            return  # nothing to count, no failure on record here: what _decided_here says, sooner
        buckets = self._buckets(subject, address, failures=False)
        if not buckets:
            return
        if self._failures_only and self._decided_here(buckets):
            return
        try:
            wait = await self._admissions.submit(buckets)
        except STORE_ERRORS as exc:
            self._warn(exc)
            return
        if wait > 0:
            raise RateLimited(wait)

    async def record_failure(self, subject: str | None, address: str) -> list[str]:
        """Counts one failed authentication; returns which of "client"/"address" it just pushed
        over the failure limit (for the audit trail: the moment a limit starts to bite)."""
        buckets = self._buckets(subject, address, failures=True)
        if not buckets:
            return []
        try:
            charged = await self._store.charge(buckets)
        except STORE_ERRORS as exc:
            self._warn(exc)
            return []
        self._learn(charged)
        return ["client" if ":fc:" in c.bucket.key else "address" for c in charged if c.crossed]

    def _learn(self, charged: list[Charged]) -> None:
        now = time.monotonic()
        if len(self._on_record) >= _MAX_ON_RECORD:  # bounded whatever callers send
            self._on_record = {key: times for key, times in self._on_record.items() if times[1] > now}
            while len(self._on_record) >= _MAX_ON_RECORD:
                del self._on_record[next(iter(self._on_record))]
        for c in charged:
            self._on_record[c.bucket.key] = (now + c.refusing_for, now + c.on_record_for)

    def _decided_here(self, buckets: list[Bucket]) -> bool:
        """With only failure limits (nothing to count per request), a caller none of whose
        failures this process recorded is admitted without a round trip; one refused by a failure
        this process charged is refused for as long as that charge said (RateLimited); any other
        caller with failures on record here is decided by Redis (False), where every process's
        failures count. So a caller over a failure limit through other processes gets at most one
        more guess on each process until its bucket has refilled: the limit plus one per process."""
        if not self._on_record:
            return True
        now, wait, ask = time.monotonic(), 0.0, False
        for bucket in buckets:
            times = self._on_record.get(bucket.key)
            if times is None:
                continue
            refusing_until, on_record_until = times
            if on_record_until <= now:
                del self._on_record[bucket.key]
            elif refusing_until > now:
                wait = max(wait, refusing_until - now)
            else:
                ask = True
        if wait > 0:
            raise RateLimited(wait)
        return not ask

    def _warn(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY:
            self._warned_at = now
            log.warning("rate limits not enforced: Redis unavailable (%s); admitting requests", type(exc).__name__)
