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

Every failure is charged in Redis, and the charge says how long that caller is now refused; the
process remembers it. So when the request limits are off (the failure limits alone apply) a
request is admitted without a round trip: a caller over a failure limit is refused by every
replica that recorded one of its failures, and each replica lets through at most one more failed
guess per period of refusal, so guesses stay bounded by the limit plus one per replica. With a
request limit on, the round trip it needs anyway reads the failure buckets in Redis too.

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
_MAX_KNOWN_REFUSALS = 10_000  # failure buckets over their limit this process remembers


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
        self._refusing: dict[str, float] = {}  # failure bucket key -> when it admits again (monotonic)

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
        admitted in the same moment, when a request limit is on; none when only the failure
        limits are (see ``_refused_by_failures``)."""
        buckets = self._buckets(subject, address, failures=False)
        if not buckets:
            return
        if not any(bucket.charge for bucket in buckets):
            if (wait := self._refused_by_failures(buckets)) > 0:
                raise RateLimited(wait)
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
        if len(self._refusing) >= _MAX_KNOWN_REFUSALS:  # bounded whatever callers send
            self._refusing = {key: until for key, until in self._refusing.items() if until > now}
            while len(self._refusing) >= _MAX_KNOWN_REFUSALS:
                del self._refusing[next(iter(self._refusing))]
        for c in charged:
            if c.refusing_for > 0:
                self._refusing[c.bucket.key] = now + c.refusing_for

    def _refused_by_failures(self, buckets: list[Bucket]) -> float:
        """Seconds a request must wait when only the failure limits apply, from what this process
        learned recording failures (the charge says how long a bucket now refuses): no round trip.
        A caller over a failure limit is refused by every replica that recorded one of its
        failures, so each replica lets through at most one more failed guess per refusal it
        learns of; with a request limit on, the round trip it needs anyway reads Redis instead."""
        if not self._refusing:
            return 0.0
        now, wait = time.monotonic(), 0.0
        for bucket in buckets:
            until = self._refusing.get(bucket.key)
            if until is not None:
                if until <= now:
                    del self._refusing[bucket.key]
                else:
                    wait = max(wait, until - now)
        return wait

    def _warn(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY:
            self._warned_at = now
            log.warning("rate limits not enforced: Redis unavailable (%s); admitting requests", type(exc).__name__)
