"""Recognising a token a client presents to /revoke or /introspect.

Access tokens are our own RFC 9068 JWTs: they are believed only after the signature checks
against a published key (the algorithm pinned by that key, never by the header), the issuer
matches and they have not expired. Anything else is looked up as a refresh token by hash.
"""

from __future__ import annotations

from typing import Any, Protocol

import jwt

from shared.tokens.minting import ACCESS_TOKEN_TYP

_REQUIRED_CLAIMS = ["iss", "sub", "client_id", "exp", "iat", "jti"]


class VerificationKeys(Protocol):
    def verification_key(self, kid: str) -> jwt.PyJWK | None: ...


def looks_like_jwt(token: str) -> bool:
    # Refresh tokens are base64url without dots; a compact JWS has exactly two.
    return token.count(".") == 2


def read_access_token(token: str, keys: VerificationKeys, issuer: str, leeway: int = 0) -> dict[str, Any] | None:
    """The verified claims of one of our live access tokens, or None.

    ``leeway``: revocation passes the clock leeway the bearer verifiers allow, since a token
    they still accept must still be revocable; introspection answers by our own clock."""
    if not token.isascii():
        return None  # ours are base64url; PyJWT would raise encoding a lone surrogate, not PyJWTError
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return None
    kid = header.get("kid")
    if header.get("typ") != ACCESS_TOKEN_TYP or not isinstance(kid, str):
        return None
    key = keys.verification_key(kid)
    if key is None:
        return None
    try:
        return jwt.decode(token, key.key, algorithms=[key.algorithm_name], issuer=issuer, leeway=leeway,
                          options={"verify_aud": False, "require": _REQUIRED_CLAIMS})
    except jwt.PyJWTError:
        return None
