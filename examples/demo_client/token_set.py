"""Turning a token response (RFC 6749 §5.1) into what the demo keeps, with the ID token
verified first: signature with a key from the provider's jwks_uri, pinned alg, then claims.
"""

from __future__ import annotations

import time
from typing import Any

from examples.demo_client.config import DemoConfig
from examples.demo_client.oidc import DemoError, check_id_token_claims
from examples.demo_client.provider import Provider, ProviderMetadata
from examples.demo_client.sessions import TokenSet
from shared.bearer.checks import ACCESS_TOKEN_TYPES, KEY_LOCATION_HEADERS
from shared.bearer.jws_verify import parse_compact, verified_payload
from shared.errors import OAuthError


async def verify_id_token(provider: Provider, metadata: ProviderMetadata, config: DemoConfig, id_token: str, *,
                          nonce: str | None, access_token: str | None) -> dict[str, Any]:
    try:
        jws = parse_compact(id_token)
        header = jws.header
        if header.get("typ") in ACCESS_TOKEN_TYPES or any(h in header for h in KEY_LOCATION_HEADERS):
            raise DemoError("The ID token was refused: its header is not that of an ID token.", 502)
        key = await provider.id_token_key(str(header.get("kid", "")))
        if header.get("alg") != key.alg:
            raise DemoError("The ID token was refused: its alg is not its key's.", 502)
        claims = verified_payload(jws, key)
    except OAuthError as exc:
        raise DemoError(f"The ID token was refused: {exc.description or exc.error}.", 502) from None
    check_id_token_claims(claims, issuer=metadata.issuer, client_id=config.client_id, nonce=nonce,
                          now=time.time(), leeway=config.clock_leeway, access_token=access_token,
                          alg=key.alg)
    return claims


async def token_set_from(response: dict[str, Any], provider: Provider, config: DemoConfig, *,
                         nonce: str | None, previous: TokenSet | None = None) -> TokenSet:
    access_token = response.get("access_token")
    if not isinstance(access_token, str) or str(response.get("token_type", "")).lower() != "bearer":
        raise DemoError("The token response has no bearer access token.", 502)
    metadata = await provider.metadata()
    id_token = response.get("id_token")
    if isinstance(id_token, str):
        id_claims = await verify_id_token(provider, metadata, config, id_token, nonce=nonce,
                                          access_token=access_token)
    elif previous is not None:
        id_token, id_claims = previous.id_token, previous.id_claims
    else:
        raise DemoError("The token response has no ID token (was the openid scope granted?).", 502)
    if previous is not None and id_claims.get("sub") != previous.id_claims.get("sub"):
        raise DemoError("The refreshed ID token is about someone else (OIDC Core §12.2).", 502)
    refresh_token = response.get("refresh_token") or (previous.refresh_token if previous else None)
    expires_in = response.get("expires_in")
    return TokenSet(
        access_token=access_token, refresh_token=refresh_token, id_token=id_token, id_claims=id_claims,
        expires_at=time.time() + (expires_in if isinstance(expires_in, (int, float)) else 0),
        scope=str(response.get("scope") or (previous.scope if previous else "")),
    )
