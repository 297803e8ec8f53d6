"""What a verified access token tells an API (RFC 9068 §2.2), and the policy it was checked against."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from .config import BearerConfig


@dataclass(frozen=True, slots=True)
class VerifierPolicy:
    """Everything the verifier checks a token against; nothing is taken from the token itself."""

    issuer: str
    audience: str
    algorithms: frozenset[str]
    leeway: int
    check_revocation: bool
    also_audiences: frozenset[str] = frozenset()  # each accepted only where a route asks for it

    @classmethod
    def from_config(cls, config: BearerConfig) -> VerifierPolicy:
        return cls(issuer=config.issuer, audience=config.audience, algorithms=frozenset(config.algorithms),
                   leeway=config.leeway, check_revocation=config.check_revocation,
                   also_audiences=frozenset(config.also_audiences) - {config.audience})


class ReadOnlyClaims(dict[str, Any]):
    """The token's claims as a dict (JSON-serialisable like one) that refuses changes: a verified
    token may be handed to many requests (verified_cache.py), so none may alter what others see.
    Nested values too: a JSON array is a tuple here, an object another ReadOnlyClaims."""

    def __init__(self, claims: Mapping[str, Any]) -> None:
        super().__init__((name, _read_only(value)) for name, value in claims.items())

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("the claims of a verified token are read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse


def _read_only(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_read_only(item) for item in value)
    if isinstance(value, dict):
        return ReadOnlyClaims(value)
    return value


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
    audiences: frozenset[str] = frozenset()

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> AccessToken:
        auth_time, aud = claims.get("auth_time"), claims["aud"]
        return cls(
            subject=claims["sub"], client_id=claims["client_id"],
            scopes=frozenset(claims.get("scope", "").split()), jti=claims["jti"],
            issued_at=int(claims["iat"]), expires_at=int(claims["exp"]),
            auth_time=None if auth_time is None else int(auth_time), claims=ReadOnlyClaims(claims),
            audiences=frozenset([aud] if isinstance(aud, str) else aud),
        )

    def has_scopes(self, *needed: str) -> bool:
        return self.scopes.issuperset(needed)
