"""JWT claim sets, built from plain values (RFC 9068 §2.2, OpenID Connect Core §2)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from shared.bearer.jti import new_jti


@dataclass(frozen=True, slots=True)
class AccessPlan:
    """The access token's id and lifetime, fixed before the code is consumed so the code's
    used marker can name the token a replay must revoke."""

    jti: str
    issued_at: int
    expires_at: int

    @classmethod
    def new(cls, now: int, ttl: int) -> AccessPlan:
        # The jti carries the issue time to the millisecond (shared.bearer.jti).
        return cls(jti=new_jti(now, time.time_ns() // 1_000_000), issued_at=now, expires_at=now + ttl)

    def lasting(self, ttl: int) -> AccessPlan:
        """The same token with its API's lifetime, once the grant's API is known (never longer
        than the bound the plan was made with, which the stored markers already cover)."""
        return AccessPlan(self.jti, self.issued_at, min(self.expires_at, self.issued_at + ttl))


def access_token_claims(plan: AccessPlan, *, issuer: str, subject: str, audience: str | list[str], client_id: str,
                        scope: str, auth_time: int | None) -> dict[str, Any]:
    """RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti required; scope §2.2.3; auth_time §2.2.1."""
    claims: dict[str, Any] = {
        "iss": issuer, "sub": subject, "aud": audience, "client_id": client_id, "scope": scope,
        "exp": plan.expires_at, "iat": plan.issued_at, "jti": plan.jti,
    }
    if auth_time is not None:
        claims["auth_time"] = auth_time
    return claims


def id_token_claims(*, issuer: str, subject: str, client_id: str, now: int, ttl: int, auth_time: int,
                    nonce: str | None, sid: str | None = None) -> dict[str, Any]:
    """OIDC Core §2: the audience is the client; azp names it as the party the token is for.
    ``sid``: the login session (OIDC Back-Channel Logout §2.1, Front-Channel Logout §3).

    at_hash is added where the token is minted (shared.tokens.minting)."""
    claims: dict[str, Any] = {
        "iss": issuer, "sub": subject, "aud": client_id, "azp": client_id,
        "exp": now + ttl, "iat": now, "auth_time": auth_time,
    }
    if nonce is not None:
        claims["nonce"] = nonce
    if sid:
        claims["sid"] = sid
    return claims
