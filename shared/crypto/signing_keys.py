"""Signing keys: generation, public JWKs, RFC 7638 thumbprints, AES-GCM encryption at rest."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

# RFC 7638 §3.2: the members of each key type that enter the thumbprint.
_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
_NONCE_BYTES = 12


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A decrypted private key ready to sign, with its public JWK."""

    kid: str
    alg: str
    private_key: PrivateKey
    public_jwk: dict[str, Any]


def generate_private_key(alg: str) -> PrivateKey:
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unsupported signing algorithm {alg!r}")


def public_jwk(private_key: PrivateKey, alg: str) -> dict[str, Any]:
    """The public half as a JWK with kid (thumbprint), use and alg set."""
    public = private_key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    jwk = {k: v for k, v in jwk.items() if k in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    return {**jwk, "kid": thumbprint(jwk), "use": "sig", "alg": alg}


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url)."""
    members = {k: jwk[k] for k in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def private_key_to_pem(private_key: PrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def encrypt_private_key(private_key: PrivateKey, kek: bytes, kid: str) -> bytes:
    """nonce || AES-256-GCM(PKCS#8 PEM); the kid is bound as associated data."""
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(kek).encrypt(nonce, private_key_to_pem(private_key), kid.encode())


def decrypt_private_key(blob: bytes, kek: bytes, kid: str) -> PrivateKey:
    """Raises cryptography.exceptions.InvalidTag on a wrong key or tampered blob."""
    pem = AESGCM(kek).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], kid.encode())
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey))
    return key
