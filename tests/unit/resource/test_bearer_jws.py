"""JWS compact parsing and signature checks with real keys (RFC 7515, RFC 8725 §3.1)."""

import base64
import json

import pytest
from jwt.algorithms import RSAAlgorithm

from shared.bearer.jwks import usable_key
from shared.bearer.jws_verify import parse_compact, verified_payload
from shared.errors import InvalidToken
from tests.integration.resource.minting import forge_alg_none, forge_hs256_with_public_key, mint, new_key, retyped
from tests.support.typed import present

ALL_ALGS = frozenset({"RS256", "ES256", "EdDSA"})
CLAIMS = {"sub": "u1", "jti": "j1"}


@pytest.fixture(scope="module")
def keys():
    return {alg: new_key(alg) for alg in ALL_ALGS}


@pytest.mark.parametrize("alg", sorted(ALL_ALGS))
def test_signed_token_verifies(keys, alg):
    key = keys[alg]
    jws = parse_compact(mint(key, CLAIMS))
    assert jws.header["kid"] == key.kid
    assert verified_payload(jws, present(usable_key(key.public_jwk, ALL_ALGS))) == CLAIMS


B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.mark.parametrize("alg", sorted(ALL_ALGS))
def test_a_signature_spelled_with_its_unused_bits_set_is_malformed(keys, alg):
    # Each signature (256 or 64 bytes) ends in a character with 4 bits that encode nothing;
    # setting one spells the same signature differently, and a lenient decoder accepts it.
    token = mint(keys[alg], CLAIMS)
    last = token[-1]
    respelled = token[:-1] + B64URL[B64URL.index(last) | 1]
    assert respelled != token
    assert base64.urlsafe_b64decode(respelled.split(".")[2] + "==") == base64.urlsafe_b64decode(
        token.split(".")[2] + "==")
    with pytest.raises(InvalidToken, match="malformed"):
        parse_compact(respelled)


@pytest.mark.parametrize("alg", sorted(ALL_ALGS))
def test_other_keys_signature_fails(keys, alg):
    other = new_key(alg)
    jws = parse_compact(mint(other, CLAIMS))
    with pytest.raises(InvalidToken, match="invalid signature"):
        verified_payload(jws, present(usable_key(keys[alg].public_jwk, ALL_ALGS)))


def test_tampered_payload_fails(keys):
    header, _, signature = mint(keys["RS256"], CLAIMS).split(".")
    forged_payload = parse_compact(mint(keys["RS256"], {"sub": "admin", "jti": "j1"})).payload_b64
    jws = parse_compact(f"{header}.{forged_payload}.{signature}")
    with pytest.raises(InvalidToken, match="invalid signature"):
        verified_payload(jws, present(usable_key(keys["RS256"].public_jwk, ALL_ALGS)))


def test_changed_header_fails(keys):
    jws = parse_compact(retyped(mint(keys["RS256"], CLAIMS), typ="JWT"))
    with pytest.raises(InvalidToken, match="invalid signature"):
        verified_payload(jws, present(usable_key(keys["RS256"].public_jwk, ALL_ALGS)))


def test_alg_none_has_no_signature_to_accept(keys):
    jws = parse_compact(forge_alg_none(keys["RS256"].kid, CLAIMS))
    with pytest.raises(InvalidToken, match="invalid signature"):
        verified_payload(jws, present(usable_key(keys["RS256"].public_jwk, ALL_ALGS)))


def test_hmac_with_the_public_key_fails_under_the_pinned_rsa_algorithm(keys):
    jws = parse_compact(forge_hs256_with_public_key(keys["RS256"], CLAIMS))
    with pytest.raises(InvalidToken, match="invalid signature"):
        verified_payload(jws, present(usable_key(keys["RS256"].public_jwk, ALL_ALGS)))


MALFORMED = [
    pytest.param("abc", id="one part"),
    pytest.param("a.b", id="two parts"),
    pytest.param("a.b.c.d.e", id="five parts (JWE)"),
    pytest.param("!!!.e30.c2ln", id="header not base64url"),
    pytest.param("e30=.e30.c2ln", id="padded base64"),
    pytest.param("bm90IGpzb24.e30.c2ln", id="header not JSON"),
    pytest.param("WzFd.e30.c2ln", id="header a JSON array"),
    # ~5 KB of nested arrays: json.loads raises RecursionError, which must not become a 500.
    pytest.param(base64.urlsafe_b64encode(b"[" * 5000).rstrip(b"=").decode() + ".e30.c2ln", id="deeply nested header"),
    pytest.param(base64.urlsafe_b64encode(b'{"a":' * 5000).rstrip(b"=").decode() + ".e30.c2ln",
                 id="deeply nested header object"),
    pytest.param(base64.urlsafe_b64encode(b"\xff\xfe{}").rstrip(b"=").decode() + ".e30.c2ln", id="header not UTF-8"),
]


@pytest.mark.parametrize("token", MALFORMED)
def test_malformed_compact_is_invalid_token(token):
    with pytest.raises(InvalidToken, match="malformed"):
        parse_compact(token)


def test_payload_must_be_a_json_object(keys):
    key = keys["RS256"]
    token = mint(key, CLAIMS)
    header_b64 = token.split(".")[0]
    payload_b64 = base64.urlsafe_b64encode(json.dumps([1, 2]).encode()).rstrip(b"=").decode()
    signing_input = f"{header_b64}.{payload_b64}".encode()
    signature = RSAAlgorithm(RSAAlgorithm.SHA256).sign(signing_input, key.private_key)
    forged = f"{header_b64}.{payload_b64}." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="malformed"):
        verified_payload(parse_compact(forged), present(usable_key(key.public_jwk, ALL_ALGS)))
