"""The logout token (OIDC Back-Channel Logout 1.0 §2.4), built from plain values.

A JWT with ``iss``, ``aud`` (the client), ``iat``, ``exp``, ``jti``, ``events`` holding exactly
the back-channel logout member, and ``sid`` and/or ``sub``; never a ``nonce`` (§2.4: its absence
keeps a logout token from passing as an ID token). The header's ``typ`` is ``logout+jwt``
(§2.4.1). The lifetime is short: §4 recommends at most two minutes, against replay.
"""

from __future__ import annotations

from typing import Any

from shared.crypto.digests import new_secret
from shared.tokens.jws_sign import JwsSigner

LOGOUT_TOKEN_TYP = "logout+jwt"
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TTL = 120


def logout_token_claims(*, issuer: str, client_id: str, sub: str, sid: str, now: int) -> dict[str, Any]:
    """``sub`` always (the RP may know the user only by it); ``sid`` whenever the session had one."""
    claims: dict[str, Any] = {
        "iss": issuer, "aud": client_id, "iat": now, "exp": now + LOGOUT_TOKEN_TTL, "jti": new_secret(16),
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}}, "sub": sub,
    }
    if sid:
        claims["sid"] = sid
    return claims


def mint_logout_token(signer: JwsSigner, claims: dict[str, Any]) -> str:
    return signer.sign(claims, LOGOUT_TOKEN_TYP)
