"""Minting the two JWTs of a token response.

Access tokens follow RFC 9068 §2.1 (header ``typ: at+jwt``, so a resource server can tell them
from ID tokens); ID tokens follow OpenID Connect Core §2 and carry ``at_hash`` (§3.1.3.6) bound
to the access token issued beside them. Claims are built by the caller; this module only adds
what the format itself defines.
"""

from __future__ import annotations

import hashlib
from typing import Any

from shared.tokens.jws_sign import JwsSigner, b64url

ACCESS_TOKEN_TYP = "at+jwt"
ID_TOKEN_TYP = "JWT"

# OIDC Core §3.1.3.6: the hash of the JWS alg; for EdDSA (Ed25519) the accepted choice is SHA-512.
_AT_HASH_DIGESTS = {"RS256": hashlib.sha256, "ES256": hashlib.sha256, "EdDSA": hashlib.sha512}


def at_hash(access_token: str, alg: str) -> str:
    """Left-most half of the hash of the access token's ASCII octets, base64url (OIDC §3.1.3.6)."""
    digest = _AT_HASH_DIGESTS[alg](access_token.encode("ascii")).digest()
    return b64url(digest[: len(digest) // 2]).decode("ascii")


def mint_access_token(signer: JwsSigner, claims: dict[str, Any]) -> str:
    return signer.sign(claims, ACCESS_TOKEN_TYP)


def mint_id_token(signer: JwsSigner, claims: dict[str, Any], access_token: str) -> str:
    return signer.sign({**claims, "at_hash": at_hash(access_token, signer.alg)}, ID_TOKEN_TYP)
