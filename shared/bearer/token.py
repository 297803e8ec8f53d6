"""What a verified access token tells an API (RFC 9068 §2.2), and the policy it was checked against."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .config import BearerConfig


@dataclass(frozen=True, slots=True)
class VerifierPolicy:
    """Everything the verifier checks a token against; nothing is taken from the token itself."""

    issuer: str
    audience: str
    algorithms: frozenset[str]
    leeway: int
    check_revocation: bool

    @classmethod
    def from_config(cls, config: BearerConfig) -> VerifierPolicy:
        return cls(issuer=config.issuer, audience=config.audience, algorithms=frozenset(config.algorithms),
                   leeway=config.leeway, check_revocation=config.check_revocation)


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A verified JWT access token: who (sub), through which client, allowed what (scope)."""

    subject: str
    client_id: str
    scopes: frozenset[str]
    jti: str
    issued_at: int
    expires_at: int
    auth_time: int | None
    claims: Mapping[str, Any]

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> AccessToken:
        auth_time = claims.get("auth_time")
        return cls(
            subject=claims["sub"], client_id=claims["client_id"],
            scopes=frozenset(claims.get("scope", "").split()), jti=claims["jti"],
            issued_at=int(claims["iat"]), expires_at=int(claims["exp"]),
            auth_time=None if auth_time is None else int(auth_time), claims=claims,
        )

    def has_scopes(self, *needed: str) -> bool:
        return self.scopes.issuperset(needed)
