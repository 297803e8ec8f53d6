"""Verifying an ``id_token_hint`` (OIDC RP-Initiated Logout 1.0 §2, Core §3.1.2.1) without the
signing keys.

The authorize service holds no private keys; the public halves of every published key are in
PostgreSQL (the set the token service's JWKS shows), read here at the moment a hint arrives.
Hints are rare (sign-outs, some authorization requests), so one indexed read each costs less
than a cache that must follow rotations.
The signature is checked with the key's own algorithm (RFC 8725 §3.1); an expired token is
still a good hint (§2: the RP may hold nothing fresher), but an access token (typ at+jwt) or a
logout token (typ logout+jwt) is not.

PyJWT and cryptography are imported here, on first use, so a service that never sees a hint
never loads them (tests/test_service_imports.py).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.authorize.app_keys import SETTINGS, STORES
from services.authorize.core.logout_request import BadHint, HintClaims, hint_claims
from shared.bearer.config import SUPPORTED_ALGORITHMS
from shared.stores.pg_signing_keys import PgSigningKeys

MAX_HINT_LENGTH = 8192  # far above any ID token we sign; bounds the work on attacker input
ID_TOKEN_TYPES = (None, "JWT")  # shared.tokens.minting signs ID tokens "JWT"; others may leave it out


async def verified_hint(token: str, keys: PgSigningKeys, *, issuer: str, algorithms: tuple[str, ...]) -> HintClaims:
    """The hint's claims once its signature, issuer and audience check out; else BadHint."""
    from shared.bearer.errors import InvalidToken
    from shared.bearer.jwks import usable_key
    from shared.bearer.jws_verify import parse_compact, verified_payload

    if len(token) > MAX_HINT_LENGTH:
        raise BadHint("the id_token_hint is too long")
    try:
        jws = parse_compact(token)
        kid, alg = jws.header.get("kid"), jws.header.get("alg")
        # An access token (at+jwt) or a logout token (logout+jwt) is signed by the same keys.
        if not isinstance(kid, str) or jws.header.get("typ") not in ID_TOKEN_TYPES:
            raise BadHint("the id_token_hint is not an ID token")
        published: dict[str, Any] = {k.kid: k.public_jwk for k in await keys.published()}
        key = usable_key(published.get(kid), frozenset(algorithms))
        if key is None or key.alg != alg:
            raise BadHint("the id_token_hint was not signed by a key of this server")
        claims = verified_payload(jws, key)
    except InvalidToken as exc:
        raise BadHint(str(exc)) from None
    return hint_claims(claims, issuer)


async def request_hint(request: web.Request, token: str) -> HintClaims:
    """``verified_hint`` with this service's key store and issuer, any algorithm a key pins."""
    return await verified_hint(token, request.app[STORES].signing_keys, issuer=request.app[SETTINGS].issuer,
                               algorithms=SUPPORTED_ALGORITHMS)
