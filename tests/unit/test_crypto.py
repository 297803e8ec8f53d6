"""Digests, constant-time comparison, signing keys, RFC 7638 thumbprints, AES-GCM at rest."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

import jwt
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from shared.crypto.digests import constant_time_equals, new_secret, sha256_b64url, sha256_hex
from shared.crypto.signing_keys import (
    decrypt_private_key,
    encrypt_private_key,
    generate_private_key,
    private_key_to_pem,
    public_jwk,
    thumbprint,
)

ALGS = ("RS256", "ES256", "EdDSA")
KEK = secrets.token_bytes(32)

# RFC 7638 §3.1: the example RSA key and its SHA-256 thumbprint.
RFC7638_JWK = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3"
         "oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZ"
         "Hzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEg"
         "U8awapJzKnqDKgw",
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@pytest.fixture(scope="module", params=ALGS)
def key_pair(request):
    return request.param, generate_private_key(request.param)


# --- digests and comparison -------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
], ids=["FIPS 180-2 abc", "empty"])
def test_sha256_hex_known_answers(value, expected):
    assert sha256_hex(value) == expected


def test_sha256_b64url_is_the_pkce_s256_transform():
    # RFC 7636 Appendix B.
    assert sha256_b64url("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert sha256_b64url(b"abc") == base64.urlsafe_b64encode(hashlib.sha256(b"abc").digest()).rstrip(b"=").decode()


@pytest.mark.parametrize(("a", "b", "equal"), [
    ("s3cret", "s3cret", True),
    ("s3cret", "s3creT", False),
    ("s3cret", "s3cret-longer", False),
    ("", "", True),
    ("s3cret", b"s3cret", True),
    ("ünïcode", "ünïcode", True),
], ids=["same", "one char differs", "prefix", "both empty", "str and bytes", "non-ascii"])
def test_constant_time_equals(a, b, equal):
    assert constant_time_equals(a, b) is equal


def test_new_secret_is_url_safe_and_unpredictable():
    values = {new_secret() for _ in range(100)}
    assert len(values) == 100
    assert all(len(v) == 43 and set(v) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
               for v in values)  # 32 bytes -> 43 base64url chars


# --- key generation and public JWKs -----------------------------------------------------------

@pytest.mark.parametrize(("alg", "check"), [
    ("RS256", lambda k: isinstance(k, rsa.RSAPrivateKey) and k.key_size >= 2048
     and k.public_key().public_numbers().e == 65537),
    ("ES256", lambda k: isinstance(k, ec.EllipticCurvePrivateKey) and isinstance(k.curve, ec.SECP256R1)),
    ("EdDSA", lambda k: isinstance(k, ed25519.Ed25519PrivateKey)),
], ids=ALGS)
def test_generate_private_key(alg, check):
    assert check(generate_private_key(alg))


@pytest.mark.parametrize("alg", ["HS256", "RS512", "none"])
def test_unsupported_algorithms_are_refused(alg):
    with pytest.raises(ValueError, match="unsupported"):
        generate_private_key(alg)


def test_public_jwk_has_no_private_members_and_kid_is_its_thumbprint(key_pair):
    alg, private_key = key_pair
    jwk = public_jwk(private_key, alg)
    assert not {"d", "p", "q", "dp", "dq", "qi"} & jwk.keys()
    assert (jwk["use"], jwk["alg"]) == ("sig", alg)
    assert jwk["kid"] == thumbprint(jwk)


def test_public_jwk_verifies_what_the_private_key_signs(key_pair):
    alg, private_key = key_pair
    jwk = public_jwk(private_key, alg)
    token = jwt.encode({"sub": "alice"}, private_key, algorithm=alg, headers={"kid": jwk["kid"]})
    verifier = jwt.PyJWK(jwk)
    assert jwt.decode(token, verifier.key, algorithms=[alg]) == {"sub": "alice"}
    other = public_jwk(generate_private_key(alg), alg)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, jwt.PyJWK(other).key, algorithms=[alg])


# --- RFC 7638 thumbprints ----------------------------------------------------------------------

def test_thumbprint_matches_the_rfc_7638_example_exactly():
    assert thumbprint(RFC7638_JWK) == RFC7638_THUMBPRINT


def _canonical(jwk: dict[str, Any]) -> str:
    # RFC 7638 §3.2, written out by hand: required members only, lexicographic order, no spaces.
    members = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}[jwk["kty"]]
    return "{" + ",".join(f'"{m}":"{jwk[m]}"' for m in members) + "}"


def test_thumbprint_hashes_the_canonical_required_members(key_pair):
    alg, private_key = key_pair
    jwk = public_jwk(private_key, alg)
    digest = hashlib.sha256(_canonical(jwk).encode()).digest()
    assert jwk["kid"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    # Optional members (use, alg, kid) never change the thumbprint.
    assert thumbprint({**jwk, "use": "enc", "alg": "x", "kid": "y"}) == jwk["kid"]


# --- AES-GCM encryption at rest ----------------------------------------------------------------

def test_encryption_round_trip(key_pair):
    alg, private_key = key_pair
    kid = public_jwk(private_key, alg)["kid"]
    blob = encrypt_private_key(private_key, KEK, kid)
    assert b"PRIVATE KEY" not in blob
    restored = decrypt_private_key(blob, KEK, kid)
    assert private_key_to_pem(restored) == private_key_to_pem(private_key)


def test_each_encryption_uses_a_fresh_nonce(key_pair):
    alg, private_key = key_pair
    first, second = (encrypt_private_key(private_key, KEK, "kid") for _ in range(2))
    assert first[:12] != second[:12] and first != second


def _flip(blob: bytes, index: int) -> bytes:
    return blob[:index] + bytes([blob[index] ^ 0x01]) + blob[index + 1:]


@pytest.mark.parametrize(("kek", "tamper", "kid"), [
    (secrets.token_bytes(32), lambda b: b, "kid-1"),
    (KEK, lambda b: _flip(b, 40), "kid-1"),
    (KEK, lambda b: _flip(b, 0), "kid-1"),
    (KEK, lambda b: _flip(b, len(b) - 1), "kid-1"),
    (KEK, lambda b: b, "kid-2"),
], ids=["wrong kek", "tampered ciphertext", "tampered nonce", "tampered tag", "wrong kid"])
def test_decryption_refuses(kek, tamper, kid):
    blob = encrypt_private_key(generate_private_key("ES256"), KEK, "kid-1")
    with pytest.raises(InvalidTag):
        decrypt_private_key(tamper(blob), kek, kid)
