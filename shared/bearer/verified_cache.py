"""Tokens whose signature and fixed claims already checked out, so a token used again skips the
signature check (most of a request's CPU) until it expires.

An API sees the same access token many times (a client reuses it until it expires), and the
signature over the same bytes checks out the same way every time. Only the parts that can
change are checked again on every use: that the key is still in the trusted JWKS, the time
claims against the clock, and the denylist. So a token is accepted from here exactly when a
full verification would accept it. API gateways do the same (Envoy's jwt_authn
``jwt_cache_config``).

Entries are keyed by the SHA-256 of the whole compact token (the exact bytes, in a 32-byte
key; an entry is about 1.5 KB with its claims). At most ``max_entries`` are kept and the oldest
is evicted first; a token refused on a later use (expired, its key gone) is dropped then. Only
tokens that passed every check, the denylist included, are stored, so a caller cannot fill the
cache with forgeries.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .jws_verify import VerificationKey
from .revocation import TokenRef
from .token import AccessToken


@dataclass(frozen=True, slots=True)
class Verified:
    """A token that passed: the key it was checked with, what the checks made of it."""

    key: VerificationKey
    access: AccessToken
    ref: TokenRef


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class VerifiedTokens:
    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._entries: dict[bytes, Verified] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: bytes) -> Verified | None:
        return self._entries.get(digest)

    def add(self, digest: bytes, verified: Verified) -> None:
        if self._max_entries <= 0:
            return
        if digest not in self._entries and len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]  # insertion order: the oldest first
        self._entries[digest] = verified

    def discard(self, digest: bytes) -> None:
        self._entries.pop(digest, None)
