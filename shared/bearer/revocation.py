"""The revocation check (RFC 7009 §2.2 leaves it to the resource server), batched.

A token is revoked when its jti is on the denylist, or when it was issued at or before a
"revoked before" moment (epoch milliseconds) set for its subject (a disabled or deleted user), its client (a disabled
or deleted client) or the two together (a revoked consent): access tokens are not recorded per
user or client, so these times are what reaches the ones nobody can name. All four keys of a
token are read with one MGET. A token's issue time comes from its jti to the millisecond
(``jti``), so tokens minted right after a revocation, in its own second, are not refused.

Requests that reach the check in the same moment share one Redis round trip (MGET): each
request still sees the denylist as it is after it arrived, but a busy API pays for one
command per batch instead of one per request. Idle, a batch is a single request.

Redis is optional (``latchkey-bearer[redis]``): nothing here imports it unless it is installed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .batching import Batched
from .jti import issued_ms

if TYPE_CHECKING:
    from redis.asyncio import Redis

try:
    from redis.exceptions import RedisError
except ImportError:  # without the redis extra no Redis denylist can be configured
    DENYLIST_ERRORS: tuple[type[Exception], ...] = (OSError,)
else:
    DENYLIST_ERRORS = (RedisError, OSError)


def revoked_jti_key(prefix: str, jti: str) -> str:
    """The Redis key the token service sets for a revoked jti (``shared.stores.redis_denylist``)."""
    return f"{prefix}revoked-jti:{jti}"


def revoked_before_key(prefix: str, *, subject: str | None = None, client_id: str | None = None) -> str:
    """The key holding the moment (epoch milliseconds; see ``revoked_before_ms``) at or before
    which tokens of this subject, client, or subject through client (both given) are refused.
    The subject is last: it is a UUID, so no client id can make two pairs share a key."""
    if subject is not None and client_id is not None:
        return f"{prefix}revoked-before:grant:{client_id}:{subject}"
    if subject is not None:
        return f"{prefix}revoked-before:sub:{subject}"
    if client_id is not None:
        return f"{prefix}revoked-before:client:{client_id}"
    raise ValueError("a subject, a client_id or both")


_SECONDS_BELOW = 10**11  # an epoch second until the year 5138; epoch milliseconds since 1973
_EVER = 2**63  # later than any token's issue time


def revoked_before_ms(value: bytes | str) -> int:
    """A stored "revoked before" moment in milliseconds. Earlier releases stored an epoch
    second meaning "issued in or before that second": read as its last millisecond. A value
    that is no number (something else wrote the key) refuses every token it covers: a
    revocation that cannot be read is not taken for none, and it fails no other token in the
    batch (an exception here would turn every request sharing the MGET into a 500)."""
    try:
        number = int(value)
    except ValueError:
        return _EVER
    return number * 1000 + 999 if number < _SECONDS_BELOW else number


@dataclass(frozen=True, slots=True)
class TokenRef:
    """What the revocation check needs of a verified token."""

    jti: str
    subject: str
    client_id: str
    issued_at: int

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> TokenRef:
        return cls(jti=claims["jti"], subject=str(claims.get("sub", "")), client_id=str(claims.get("client_id", "")),
                   issued_at=int(claims.get("iat", 0)))

    def keys(self, prefix: str) -> tuple[str, str, str, str]:
        return (revoked_jti_key(prefix, self.jti), revoked_before_key(prefix, subject=self.subject),
                revoked_before_key(prefix, client_id=self.client_id),
                revoked_before_key(prefix, subject=self.subject, client_id=self.client_id))

    def revoked_by(self, values: Sequence[bytes | str | None]) -> bool:
        """``values``: what Redis holds under ``keys()``, in order."""
        jti, *before = values
        if jti is not None:
            return True
        issued = issued_ms(self.jti, self.issued_at)
        return any(v is not None and issued <= revoked_before_ms(v) for v in before)


T = TypeVar("T")


class BatchDenylist(Protocol[T]):
    async def contains_many(self, items: list[T]) -> list[bool]: ...


class RedisDenylistReader:
    """The verifier's read side of the revocations the token service and management write."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def contains_many(self, tokens: list[TokenRef]) -> list[bool]:
        """One round trip (MGET) for many tokens, four keys each."""
        values = await self._redis.mget([key for token in tokens for key in token.keys(self._prefix)])
        return [token.revoked_by(values[4 * i:4 * i + 4]) for i, token in enumerate(tokens)]


class BatchedDenylistCheck(Batched[T, bool]):
    """The denylist read for many tokens in one MGET (``batching``)."""

    def __init__(self, denylist: BatchDenylist[T], max_batch: int = 256) -> None:
        super().__init__(denylist.contains_many, max_batch)

    async def contains(self, item: T) -> bool:
        return await self.submit(item)
