"""The client side of the flow, as pure functions: the authorization request with PKCE, state
and nonce (RFC 6749 §4.1.1, RFC 7636 §4, OIDC Core §3.1.2.1), the checks on the way back
(RFC 6749 §4.1.2, RFC 9207 §2.4) and the ID token rules of OIDC Core §3.1.3.7.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from examples.demo_client.provider import ProviderMetadata
from examples.demo_client.sessions import PendingLogin
from shared.crypto.digests import constant_time_equals, sha256_b64url


class DemoError(Exception):
    """Something the person using the demo should read; the message is shown as is."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def new_pending_login(now: float) -> PendingLogin:
    return PendingLogin(state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
                        code_verifier=secrets.token_urlsafe(64), started_at=now)


def authorization_url(metadata: ProviderMetadata, client_id: str, redirect_uri: str, scope: str,
                      pending: PendingLogin) -> str:
    query = {
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
        "state": pending.state, "nonce": pending.nonce,
        "code_challenge": sha256_b64url(pending.code_verifier), "code_challenge_method": "S256",
    }
    return f"{metadata.authorization_endpoint}?{urlencode(query)}"


def end_session_url(endpoint: str, *, id_token: str | None, client_id: str, post_logout_redirect_uri: str,
                    state: str) -> str:
    """RP-Initiated Logout 1.0 §2: the hint says who is signing out (so Latchkey need not ask),
    client_id and the registered post_logout_redirect_uri where to come back, state to recognise it."""
    query = {"client_id": client_id, "post_logout_redirect_uri": post_logout_redirect_uri, "state": state}
    if id_token:
        query = {"id_token_hint": id_token, **query}
    return f"{endpoint}{'&' if urlsplit(endpoint).query else '?'}{urlencode(query)}"


def code_from_callback(query: Mapping[str, str], pending: PendingLogin | None, metadata: ProviderMetadata) -> str:
    """The code, once state (and iss, RFC 9207) prove the answer belongs to our request."""
    if pending is None:
        raise DemoError("No sign-in was started from this browser (or it took too long). Please start again.")
    if not constant_time_equals(query.get("state", ""), pending.state):
        raise DemoError("The state parameter does not match the sign-in we started: refusing the answer.")
    if "iss" in query or metadata.iss_parameter_supported:
        if query.get("iss") != metadata.issuer:
            raise DemoError("The answer names another issuer (RFC 9207 iss check failed).")
    if "error" in query:
        description = query.get("error_description", "")
        raise DemoError(f"Latchkey answered {query['error']}" + (f": {description}" if description else "."))
    code = query.get("code")
    if not code:
        raise DemoError("The answer carries neither a code nor an error.")
    return code


def at_hash(access_token: str, alg: str) -> str:
    """OIDC Core §3.1.3.6: left half of the hash matching the ID token's alg."""
    digest = (hashlib.sha512 if alg == "EdDSA" else hashlib.sha256)(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def check_id_token_claims(claims: Mapping[str, Any], *, issuer: str, client_id: str, nonce: str | None,
                          now: float, leeway: int, access_token: str | None, alg: str) -> None:
    """OIDC Core §3.1.3.7 steps 2-3, 9-11, and §3.1.3.8 for at_hash; the signature is checked before."""
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    problems = [
        (claims.get("iss") != issuer, "its issuer is not the one we discovered"),
        (client_id not in audiences, "it is not meant for this client (aud)"),
        (len(audiences) > 1 and claims.get("azp") != client_id, "azp must name this client"),
        ("azp" in claims and claims.get("azp") != client_id, "azp names another client"),
        (not isinstance(claims.get("exp"), (int, float)) or claims["exp"] + leeway <= now, "it has expired"),
        (not isinstance(claims.get("iat"), (int, float)) or claims["iat"] > now + leeway, "iat is missing or ahead"),
        (not isinstance(claims.get("sub"), str) or not claims["sub"], "sub is missing"),
        (nonce is not None and not constant_time_equals(str(claims.get("nonce", "")), nonce),
         "its nonce is not the one we sent"),
        (access_token is not None and "at_hash" in claims
         and not constant_time_equals(str(claims["at_hash"]), at_hash(access_token, alg)),
         "at_hash does not match the access token"),
    ]
    for failed, why in problems:
        if failed:
            raise DemoError(f"The ID token was refused: {why}.", status=502)


def decode_for_display(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a JWT, unverified: only to show them (a client must treat access
    tokens as opaque, RFC 9068 §6)."""
    try:
        header_b64, payload_b64, _ = token.split(".")
        def decode(s: str) -> dict[str, Any]:
            part: dict[str, Any] = json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
            return part
        return decode(header_b64), decode(payload_b64)
    except ValueError:
        return {}, {"note": "not a JWT"}
