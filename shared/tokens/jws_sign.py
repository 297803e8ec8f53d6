"""Compact JWS signing (RFC 7515 §7.1) with a key decrypted once at start.

The protected header of a key never changes, so it is serialised once per ``typ`` and reused:
per token only the payload is encoded and signed. Algorithms per RFC 7518 §3.3 (RS256),
§3.4 (ES256, raw r||s rather than DER) and RFC 8037 §3.1 (EdDSA).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from shared import compact_json
from shared.crypto.signing_keys import PrivateKey, SigningKey

_ES256_COORDINATE_BYTES = 32


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _json_segment(value: dict[str, Any]) -> bytes:
    return b64url(compact_json.dumps(value).encode())


def _rs256(key: PrivateKey) -> Callable[[bytes], bytes]:
    assert isinstance(key, rsa.RSAPrivateKey)
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    return lambda data: key.sign(data, pkcs1, sha256)


def _es256(key: PrivateKey) -> Callable[[bytes], bytes]:
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    ecdsa = ec.ECDSA(hashes.SHA256())

    def sign(data: bytes) -> bytes:
        r, s = decode_dss_signature(key.sign(data, ecdsa))
        return r.to_bytes(_ES256_COORDINATE_BYTES, "big") + s.to_bytes(_ES256_COORDINATE_BYTES, "big")

    return sign


def _eddsa(key: PrivateKey) -> Callable[[bytes], bytes]:
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    return key.sign


_SIGNERS: dict[str, Callable[[PrivateKey], Callable[[bytes], bytes]]] = {
    "RS256": _rs256, "ES256": _es256, "EdDSA": _eddsa,
}


class JwsSigner:
    """Signs JWT claims with one key; the header carries its kid and alg (never ``none``)."""

    def __init__(self, key: SigningKey) -> None:
        if key.alg not in _SIGNERS:
            raise ValueError(f"unsupported signing algorithm {key.alg!r}")
        self.kid = key.kid
        self.alg = key.alg
        self._sign = _SIGNERS[key.alg](key.private_key)
        self._headers: dict[str, bytes] = {}

    def _header(self, typ: str) -> bytes:
        header = self._headers.get(typ)
        if header is None:
            header = self._headers[typ] = _json_segment({"alg": self.alg, "kid": self.kid, "typ": typ})
        return header

    def sign(self, claims: dict[str, Any], typ: str) -> str:
        signing_input = self._header(typ) + b"." + _json_segment(claims)
        return (signing_input + b"." + b64url(self._sign(signing_input))).decode("ascii")
