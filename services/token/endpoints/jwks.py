"""GET /jwks: the published public keys (RFC 7517 §5), rendered once per key change.

Cacheable for LATCHKEY_JWKS_MAX_AGE_SECONDS: a new key is announced for longer than that plus
a refetch cooldown before it signs (Settings.validate), so every verifier knows the signing key.
"""

from __future__ import annotations

from aiohttp import web

from services.token.app_keys import KEY_CACHE, SETTINGS


async def jwks(request: web.Request) -> web.Response:
    return web.Response(
        body=request.app[KEY_CACHE].jwks_body, content_type="application/json",
        headers={"Cache-Control": f"public, max-age={request.app[SETTINGS].jwks_max_age}",
                 "Access-Control-Allow-Origin": "*"},
    )
