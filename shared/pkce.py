"""Proof Key for Code Exchange, S256 only (RFC 7636; OAuth 2.1 and RFC 9700 §2.1.1).

The authorize service checks the challenge's syntax (§4.2, §4.3); the token service checks the
verifier's syntax (§4.1) and that it hashes to the challenge (§4.6), in constant time.
``plain`` is not supported: it protects nothing once the authorization request leaks.
"""

from __future__ import annotations

import re

from shared.crypto.digests import constant_time_equals, sha256_b64url

S256 = "S256"
SUPPORTED_METHODS = (S256,)

# §4.1: code-verifier = 43*128unreserved, unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# §4.2: BASE64URL(SHA256(verifier)) is always 43 characters; 256 bits leave the last one with
# only 4 significant bits, so only 16 letters can end a challenge that some verifier produces.
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_\-]{42}[AEIMQUYcgkosw048]")


def is_valid_code_verifier(verifier: str) -> bool:
    """RFC 7636 §4.1 syntax: 43 to 128 unreserved characters."""
    return _VERIFIER.fullmatch(verifier) is not None


def is_valid_code_challenge(challenge: str, method: str = S256) -> bool:
    """RFC 7636 §4.2: what an S256 transformation can produce; other methods are unsupported."""
    return method == S256 and _S256_CHALLENGE.fullmatch(challenge) is not None


def s256_challenge(verifier: str) -> str:
    """RFC 7636 §4.2: code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))."""
    return sha256_b64url(verifier)


def verify_code_verifier(verifier: str, challenge: str) -> bool:
    """RFC 7636 §4.6: True when ``verifier`` is well formed and hashes to ``challenge``.

    The comparison is constant-time; a malformed verifier is simply False, so callers answer
    invalid_grant without saying which part was wrong.
    """
    if not is_valid_code_verifier(verifier):
        return False
    return constant_time_equals(s256_challenge(verifier), challenge)
