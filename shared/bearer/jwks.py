"""The trusted JWK set (RFC 7517 §5), cached per Cache-Control and refetched sparingly.

Keys are decoded once per fetch and reused for every request. A kid we do not know triggers
a refetch at most once per cooldown, with a single fetch in flight however many requests wait
on it, so tokens with random kids cannot turn into a request flood against the token service.
A known key past max-age is served at once while a background refetch runs (stale-while-
revalidate, RFC 5861 §3), but only for ``max_stale`` seconds more: after that, and when keys
cannot be had at all, unverifiable tokens get a 503, never acceptance.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from jwt import PyJWK
from jwt.exceptions import PyJWTError

from .config import KEY_SHAPES
from .errors import InvalidToken, VerifierUnavailable
from .jws_verify import VerificationKey
from .tasks import stop_tasks

log = logging.getLogger("latchkey.bearer")

MIN_RSA_BITS = 2048  # RFC 7518 §3.3


class JwksUnavailable(Exception):
    """The JWK set could not be fetched or is not a JWK set."""


@dataclass(frozen=True, slots=True)
class FetchedJwks:
    document: Any
    max_age: int | None  # None: the response said nothing about caching


class JwksFetcher(Protocol):
    async def fetch(self) -> FetchedJwks: ...


def max_age_from_headers(cache_control: str | None, age: str | None = None) -> int | None:
    """Seconds the response stays fresh (RFC 9111 §5.2.2.1, §4.2.3); 0 for no-store/no-cache."""
    if not cache_control:
        return None
    directives = {}
    for part in cache_control.split(","):
        name, _, value = part.strip().partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if "no-store" in directives or "no-cache" in directives:
        return 0
    try:
        max_age = int(directives["max-age"])
    except (KeyError, ValueError):
        return None
    try:
        already = int(age) if age else 0
    except ValueError:
        already = 0
    return max(0, max_age - max(0, already))


def usable_key(jwk: Any, algorithms: frozenset[str]) -> VerificationKey | None:
    """A public signing key pinned to its own alg, or None when it is not one we may use."""
    if not isinstance(jwk, dict):
        return None
    kid, alg = jwk.get("kid"), jwk.get("alg")
    # One malformed member (a list where a string belongs) skips that key, never the whole set.
    if not isinstance(kid, str) or not kid or not isinstance(alg, str) or alg not in algorithms \
            or alg not in KEY_SHAPES:
        return None
    if jwk.get("use", "sig") != "sig" or "d" in jwk:
        return None  # an encryption key, or a private key that should never have been published
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        return None
    kty, crv = KEY_SHAPES[alg]
    if jwk.get("kty") != kty or (crv is not None and jwk.get("crv") != crv):
        return None
    try:
        parsed = PyJWK(jwk, algorithm=alg)
    except (PyJWTError, ValueError, TypeError):
        return None
    if kty == "RSA" and parsed.key.key_size < MIN_RSA_BITS:
        return None
    return VerificationKey(kid=kid, alg=alg, algorithm=parsed.Algorithm, key=parsed.key)


def parse_jwks(document: Any, algorithms: frozenset[str]) -> dict[str, VerificationKey]:
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksUnavailable("not a JWK set")
    keys: dict[str, VerificationKey] = {}
    for jwk in document["keys"]:
        key = usable_key(jwk, algorithms)
        if key is None:
            log.warning("ignoring an unusable JWK (kid %r)", jwk.get("kid") if isinstance(jwk, dict) else None)
        elif key.kid not in keys:
            keys[key.kid] = key
    return keys


class JwksCache:
    """Maps a kid to its decoded key; see the module docstring for the refetch rules."""

    def __init__(self, fetcher: JwksFetcher, *, algorithms: frozenset[str], cooldown: float,
                 default_max_age: int, max_age_cap: int, max_stale: float | None = None,
                 clock: Callable[[], float] = time.monotonic, on_fetch: Callable[[bool], None] | None = None) -> None:
        self._fetcher = fetcher
        self._on_fetch = on_fetch  # told whether each fetch succeeded (a service counts them)
        self._algorithms = algorithms
        self._cooldown = cooldown
        self._default_max_age = default_max_age
        self._max_age_cap = max_age_cap
        # How long past max-age a known key is still served while refetches fail.
        self._max_stale = max_age_cap if max_stale is None else max_stale
        self._clock = clock
        self._keys: dict[str, VerificationKey] = {}
        self._fresh_until = -math.inf
        self._next_fetch_at = -math.inf
        self._last_fetch_ok = False
        self._inflight: asyncio.Task[None] | None = None
        self.fetches = 0

    async def key_for(self, kid: str) -> VerificationKey:
        key = self._keys.get(kid)
        now = self._clock()
        if key is not None and now < self._fresh_until:
            return key
        if key is not None and now < self._fresh_until + self._max_stale:
            self._start_refresh()  # stale-while-revalidate (RFC 5861 §3): nobody waits on it
            return key
        # An unknown kid (maybe a rotated-in key), or keys too stale to use: wait for a refetch.
        await self._refresh_if_allowed()
        key = self._keys.get(kid)
        if not self._last_fetch_ok:
            raise VerifierUnavailable("signing keys are unavailable")
        if key is None:
            raise InvalidToken("unknown signing key", reason="unknown_kid")
        return key

    async def prime(self) -> None:
        """The first fetch at start-up; if it fails, the first request may try again at once."""
        await self._refresh_if_allowed()
        if not self._last_fetch_ok:
            self._next_fetch_at = -math.inf

    async def settled(self) -> None:
        """Waits for the refetch in flight, if any (tests; a background refresh is never awaited)."""
        if self._inflight is not None:
            await asyncio.shield(self._inflight)

    async def close(self) -> None:
        if self._inflight is not None:
            await stop_tasks(self._inflight)

    def _start_refresh(self) -> None:
        """One fetch in flight, and at most one per cooldown, however many requests ask."""
        if self._inflight is None and self._clock() >= self._next_fetch_at:
            self._inflight = asyncio.create_task(self._fetch())

    async def _refresh_if_allowed(self) -> None:
        self._start_refresh()
        # Shielded: a waiting request that is cancelled must not cancel the fetch for the others.
        await self.settled()

    async def _fetch(self) -> None:
        started = self._clock()
        self._next_fetch_at = started + self._cooldown
        self.fetches += 1
        try:
            fetched = await self._fetcher.fetch()
            keys = parse_jwks(fetched.document, self._algorithms)
        except JwksUnavailable as exc:
            self._last_fetch_ok = False
            log.warning("JWKS fetch failed: %s", exc)
        except Exception:
            self._last_fetch_ok = False
            log.exception("JWKS fetch failed")
        else:
            max_age = self._default_max_age if fetched.max_age is None else fetched.max_age
            self._keys, self._last_fetch_ok = keys, True
            self._fresh_until = started + min(max_age, self._max_age_cap)
        finally:
            self._inflight = None
            if self._on_fetch is not None:
                self._on_fetch(self._last_fetch_ok)
