"""Verifies JWT access tokens (RFC 9068 §4) locally, with keys from a cache: no I/O per request
except one denylist lookup when revocation checks are on. A token seen before is not checked
again for what cannot have changed (verified_cache.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from .checks import TIME_CHECKS, WRONG_AUDIENCE, check_alg_matches_key, check_claims, check_header
from .errors import InvalidToken, VerifierUnavailable
from .jws_verify import VerificationKey, parse_compact, verified_payload
from .revocation import DENYLIST_ERRORS, TokenRef
from .token import AccessToken, VerifierPolicy
from .verified_cache import Verified, VerifiedTokens, token_digest


class KeySource(Protocol):
    async def key_for(self, kid: str) -> VerificationKey: ...


class Denylist(Protocol):
    async def contains(self, token: TokenRef) -> bool: ...


class BearerVerifier:
    def __init__(self, policy: VerifierPolicy, keys: KeySource, denylist: Denylist | None = None, *,
                 clock: Callable[[], float] = time.time, on_refused: Callable[[str], None] | None = None,
                 remember: int = 0) -> None:
        """``on_refused`` is told the reason key of every token refused (a service counts them;
        the package itself depends on no metrics library). Up to ``remember`` verified tokens
        are remembered (0: every token is verified in full every time)."""
        self.policy = policy
        self._on_refused = on_refused
        self._keys = keys
        self._denylist = denylist if policy.check_revocation else None
        self._clock = clock
        self._verified = VerifiedTokens(remember) if remember > 0 else None

    async def verify(self, token: str, *, also: str | None = None) -> AccessToken:
        """Each step raises InvalidToken (401) or VerifierUnavailable (503); order matters:
        nothing from the token is trusted before its signature has been checked with a pinned key.
        The token must be for the policy's audience, or for ``also``, one of its also_audiences
        that the caller's route takes.
        """
        if self._on_refused is None:
            return await self._verify(token, also)
        try:
            return await self._verify(token, also)
        except InvalidToken as refused:
            self._on_refused(refused.reason)
            raise

    async def _verify(self, token: str, also: str | None) -> AccessToken:
        cache = self._verified
        if cache is None:
            verified = await self._verify_in_full(token)
            self._check_route_audience(verified.access, also)
            await self._check_not_revoked(verified.ref)
            return verified.access
        digest = token_digest(token)
        known = cache.get(digest)
        try:
            # Its key still trusted, the very object it was checked with (a refetched JWKS has new
            # ones, so a token is verified in full once after every refetch).
            if known is not None and await self._keys.key_for(known.key.kid) is known.key:
                # Only the clock can have changed the answer for the same bytes and key.
                check_claims(known.access.claims, self.policy, int(self._clock()), TIME_CHECKS)
                verified = known
            else:
                verified = await self._verify_in_full(token)
        except InvalidToken:
            cache.discard(digest)  # refused now: nothing of it is worth keeping
            raise
        self._check_route_audience(verified.access, also)  # (kept: another route may take it)
        await self._check_not_revoked(verified.ref)
        if verified is not known:
            cache.add(digest, verified)  # only a token that passed every check
        return verified.access

    async def _verify_in_full(self, token: str) -> Verified:
        jws = parse_compact(token)
        kid = check_header(jws.header, self.policy)
        key = await self._keys.key_for(kid)
        check_alg_matches_key(jws.header, key)
        claims = verified_payload(jws, key)
        check_claims(claims, self.policy, int(self._clock()))
        return Verified(key, AccessToken.from_claims(claims), TokenRef.from_claims(claims))

    def _check_route_audience(self, access: AccessToken, also: str | None) -> None:
        """The claim checks took any of the policy's audiences; this route takes its own and ``also``."""
        policy = self.policy
        if not policy.also_audiences or policy.audience in access.audiences:
            return
        if also is None or also not in policy.also_audiences or also not in access.audiences:
            raise InvalidToken(WRONG_AUDIENCE, reason="wrong_audience")

    async def _check_not_revoked(self, token: TokenRef) -> None:
        """The jti denylist and the revoked-before times of its subject and client, in one lookup."""
        if self._denylist is None:
            return
        try:
            revoked = await self._denylist.contains(token)
        except DENYLIST_ERRORS as exc:
            # Fail closed: a token we cannot check against the denylist is not accepted.
            raise VerifierUnavailable("revocation list unavailable") from exc
        if revoked:
            raise InvalidToken("token revoked", reason="revoked")
