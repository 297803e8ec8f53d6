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
_B64URL_VALUES = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}
# The last character of a segment whose length is 2 or 3 modulo 4 carries 4 or 2 bits that encode
# nothing; set, they give one signature many spellings (RFC 4648 §3.5 lets a decoder refuse them).
_UNUSED_BITS = {2: 0b1111, 3: 0b11}


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
    """Unpadded, canonical base64url only (RFC 7515 §2): '+', '/', '=', anything outside the
    alphabet and a last character with its unused bits set fail."""
    if not _B64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise InvalidToken("malformed token")
    unused = _UNUSED_BITS.get(len(segment) % 4)
    if unused and _B64URL_VALUES[segment[-1]] & unused:
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
