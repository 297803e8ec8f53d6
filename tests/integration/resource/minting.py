"""Access tokens for tests: real keys, the exact RFC 9068 claim shape, and forgeries.

Until then (and alongside) the token service mints the real ones; these let every verifier
rule be exercised with one changed detail at a time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Protocol

import jwt

from shared.config import Settings
from shared.crypto.signing_keys import PrivateKey, generate_private_key, public_jwk


class PublishedJwk(Protocol):
    """What anyone can read from a JWKS: a key's kid and its public JWK."""

    @property
    def kid(self) -> str: ...
    @property
    def public_jwk(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class TestKey:
    __test__ = False  # not a pytest test class

    kid: str
    alg: str
    private_key: PrivateKey
    public_jwk: dict[str, Any]


def new_key(alg: str = "RS256") -> TestKey:
    private_key = generate_private_key(alg)
    jwk = public_jwk(private_key, alg)
    return TestKey(kid=jwk["kid"], alg=alg, private_key=private_key, public_jwk=jwk)


def access_claims(settings: Settings, sub: str, scope: str = "openid", *, client_id: str = "test-client",
                  ttl: int = 300, **overrides: Any) -> dict[str, Any]:
    """RFC 9068 §2.2 claims as the token service issues them."""
    now = int(time.time())
    claims = {
        "iss": settings.issuer, "sub": sub, "aud": settings.access_audience, "client_id": client_id,
        "scope": scope, "exp": now + ttl, "iat": now, "jti": secrets.token_urlsafe(16), "auth_time": now,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}  # None removes a claim


def mint(key: TestKey, claims: dict[str, Any], *, typ: str = "at+jwt", **headers: Any) -> str:
    header = {"kid": key.kid, "typ": typ, **headers}
    return jwt.encode(claims, key.private_key, algorithm=key.alg, headers=header)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _compact(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())


def forge_alg_none(kid: str, claims: dict[str, Any]) -> str:
    """RFC 8725 §2.1: an unsigned token claiming alg "none"."""
    return _compact({"alg": "none", "typ": "at+jwt", "kid": kid}, claims) + "."


def forge_hs256_with_public_key(key: PublishedJwk, claims: dict[str, Any], *, secret: bytes | None = None) -> str:
    """RFC 8725 §2.1: HMAC keyed with the public key, hoping the verifier takes alg from the header."""
    secret = secret if secret is not None else json.dumps(key.public_jwk).encode()
    signing_input = _compact({"alg": "HS256", "typ": "at+jwt", "kid": key.kid}, claims)
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(signature)


def retyped(token: str, **header_changes: Any) -> str:
    """The same signature under a changed header: must fail the signature check."""
    header_b64, payload_b64, signature = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)))
    header.update(header_changes)
    return _b64(json.dumps(header).encode()) + "." + payload_b64 + "." + signature


def forge_raw_header(raw_header: bytes, claims: dict[str, Any]) -> str:
    """Any header bytes at all (wrong JSON types, deep nesting), with a junk signature."""
    return _b64(raw_header) + "." + _b64(json.dumps(claims).encode()) + "." + _b64(b"junk")


def bearer_header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
