"""Random secrets, SHA-256 digests of high-entropy secrets, constant-time comparison.

Codes, refresh tokens and client secrets carry >= 128 bits of entropy, so a fast unsalted
SHA-256 is enough to store them: nobody can brute-force the preimage (unlike passwords).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def new_secret(nbytes: int = 32) -> str:
    """A URL-safe random string with ``nbytes`` bytes of entropy (default 256 bits)."""
    return secrets.token_urlsafe(nbytes)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def sha256_b64url(value: str | bytes) -> str:
    """Unpadded base64url SHA-256, as PKCE S256 (RFC 7636 §4.2) wants."""
    data = value.encode("ascii") if isinstance(value, str) else value
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    a_bytes = a.encode() if isinstance(a, str) else a
    b_bytes = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(a_bytes, b_bytes)
