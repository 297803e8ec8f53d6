"""Token introspection (RFC 7662 §2.2).

A client learns about its own live tokens only; an API (calling with its own credentials) about
live access tokens whose audience is that API (§2.1: the protected resource asks). For anything
else (unknown, expired, revoked, rotated, another client's, another API's, or a refresh token
asked about by an API) the answer is exactly {"active": false}.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.token.core.presented import VerificationKeys, looks_like_jwt, read_access_token
from shared.config import Settings
from shared.crypto.digests import sha256_hex
from shared.models import Api, Client, RefreshToken
from shared.oauth.scopes import format_scope
from shared.stores.protocols import Denylist, RefreshTokens

INACTIVE: dict[str, Any] = {"active": False}
_ACCESS_CLAIMS = ("iss", "sub", "aud", "client_id", "scope", "exp", "iat", "jti", "auth_time")


def refresh_token_is_live(token: RefreshToken | None, client: Client, now: datetime, grace_seconds: int) -> bool:
    return (token is not None and token.client_id == client.client_id and token.revoked_at is None
            and (token.used_at is None or token.used_at > now - timedelta(seconds=grace_seconds))
            and min(token.expires_at, token.family_expires_at) > now)


def may_see(claims: dict[str, Any], caller: Client | Api) -> bool:
    """A client sees its own tokens; an API the tokens whose audience it is."""
    if isinstance(caller, Api):
        aud = claims.get("aud")
        return caller.identifier in ([aud] if isinstance(aud, str) else aud if isinstance(aud, list) else [])
    return bool(claims["client_id"] == caller.client_id)


async def introspect(token: str, client: Client | Api, *, settings: Settings, keys: VerificationKeys,
                     refresh_tokens: RefreshTokens, denylist: Denylist) -> dict[str, Any]:
    if looks_like_jwt(token):
        claims = read_access_token(token, keys, settings.issuer)
        if claims is None or not may_see(claims, client) or await denylist.refuses(claims):
            return INACTIVE
        return {"active": True, "token_type": "Bearer", **{k: claims[k] for k in _ACCESS_CLAIMS if k in claims}}
    if isinstance(client, Api):
        return INACTIVE  # refresh tokens are the client's business, not the API's
    found = await refresh_tokens.find(sha256_hex(token))
    if not refresh_token_is_live(found, client, datetime.now(UTC), settings.refresh_grace):
        return INACTIVE
    assert found is not None
    return {"active": True, "token_type": "refresh_token", "iss": settings.issuer, "sub": str(found.user_id),
            "client_id": found.client_id, "scope": format_scope(found.scope),
            "exp": int(min(found.expires_at, found.family_expires_at).timestamp())}
