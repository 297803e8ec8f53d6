"""RFC 7636: S256 only, syntax checks and the constant-time verifier check (shared.pkce)."""

import pytest

from shared.pkce import is_valid_code_challenge, is_valid_code_verifier, s256_challenge, verify_code_verifier

# RFC 7636 Appendix B.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_s256_matches_rfc_7636_appendix_b():
    assert s256_challenge(RFC_VERIFIER) == RFC_CHALLENGE


@pytest.mark.parametrize("verifier, challenge, expected", [
    pytest.param(RFC_VERIFIER, RFC_CHALLENGE, True, id="the RFC example verifies"),
    pytest.param(RFC_VERIFIER[:-1] + "l", RFC_CHALLENGE, False, id="one character off fails"),
    pytest.param(RFC_CHALLENGE, RFC_CHALLENGE, False, id="sending the challenge as verifier fails (no plain)"),
    pytest.param("a" * 42, s256_challenge("a" * 42), False, id="42-character verifier is too short"),
    pytest.param("a" * 129, s256_challenge("a" * 129), False, id="129-character verifier is too long"),
    pytest.param("a" * 128, s256_challenge("a" * 128), True, id="128-character verifier is the maximum"),
    pytest.param("a" * 42 + "+", s256_challenge("a" * 42 + "+"), False, id="'+' is not an unreserved character"),
    pytest.param("a" * 42 + "\u00e9", "x", False, id="non-ASCII verifier fails without raising"),
    pytest.param("", RFC_CHALLENGE, False, id="empty verifier fails"),
])
def test_verify_code_verifier(verifier, challenge, expected):
    assert verify_code_verifier(verifier, challenge) is expected


@pytest.mark.parametrize("verifier, valid", [
    pytest.param("A-._~" + "b" * 38, True, id="all unreserved punctuation is allowed"),
    pytest.param("a" * 43 + "\n", False, id="a trailing newline is not allowed"),
    pytest.param("a b" + "c" * 41, False, id="a space is not allowed"),
])
def test_verifier_syntax(verifier, valid):
    assert is_valid_code_verifier(verifier) is valid


@pytest.mark.parametrize("challenge, method, valid", [
    pytest.param(RFC_CHALLENGE, "S256", True, id="an S256 hash is valid"),
    pytest.param(RFC_CHALLENGE, "plain", False, id="plain is not supported"),
    pytest.param(RFC_CHALLENGE[:-1], "S256", False, id="42 characters is too short for SHA-256"),
    pytest.param(RFC_CHALLENGE + "A", "S256", False, id="44 characters is too long"),
    pytest.param(RFC_CHALLENGE[:-1] + "N", "S256", False, id="a last character no SHA-256 can end with"),
    pytest.param(RFC_CHALLENGE[:-1] + "=", "S256", False, id="base64 padding is not base64url"),
])
def test_challenge_syntax(challenge, method, valid):
    assert is_valid_code_challenge(challenge, method) is valid
