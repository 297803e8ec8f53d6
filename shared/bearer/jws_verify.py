"""JWS compact serialization (RFC 7515 §7.1) read with the algorithm the key pins (RFC 8725 §3.1).

The header is parsed first so the verifier can pick the key; the payload is parsed only after
the signature over it has been checked.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from jwt.algorithms import Algorithm

from .errors import InvalidToken

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """A public key decoded once from the JWKS, with the one algorithm it may verify."""

    kid: str
    alg: str
    algorithm: Algorithm
    key: Any


@dataclass(frozen=True, slots=True)
class CompactJws:
    header: dict[str, Any]
    signing_input: bytes
    payload_b64: str
    signature: bytes


def b64url_decode(segment: str) -> bytes:
    """Unpadded base64url only (RFC 7515 §2): '+', '/', '=' and anything outside the alphabet fail."""
    if not _B64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise InvalidToken("malformed token")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken("malformed token") from None


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: deeply nested arrays in a forged header
        raise InvalidToken("malformed token") from None
    if not isinstance(value, dict):
        raise InvalidToken("malformed token")
    return value


def parse_compact(token: str) -> CompactJws:
    """Three base64url parts (a five-part JWE or anything else is refused)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("malformed token")
    header_b64, payload_b64, signature_b64 = parts
    # The payload is decoded only once the signature checks out, but its text is signed as
    # ASCII now: outside the base64url alphabet it is malformed, not an encoding error.
    if not _B64URL.fullmatch(payload_b64):
        raise InvalidToken("malformed token")
    return CompactJws(header=_json_object(b64url_decode(header_b64)),
                      signing_input=f"{header_b64}.{payload_b64}".encode("ascii"),
                      payload_b64=payload_b64, signature=b64url_decode(signature_b64))


def verified_payload(jws: CompactJws, key: VerificationKey) -> dict[str, Any]:
    """The claims, once the signature checks out under the key's own algorithm."""
    if not jws.signature or not key.algorithm.verify(jws.signing_input, key.key, jws.signature):
        raise InvalidToken("invalid signature", reason="bad_signature")
    return _json_object(b64url_decode(jws.payload_b64))
