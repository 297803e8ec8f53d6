"""Which origins may read /userinfo (shared.web.cors does the HTTP part).

The origins of the client the access token was issued to (its ``client_id`` claim, RFC 9068
§2.2). A request without a valid token (its 401) and a preflight (which carries no token) are
allowed for an origin some enabled client allows, so an app can read why it was refused.
Lookups go through the clients cache, invalidated on every client change: no query per request.
"""

from __future__ import annotations

from aiohttp import web

from services.resource.app_keys import CLIENTS
from shared.bearer import ACCESS_TOKEN
from shared.endpoints import USERINFO_PATH
from shared.web.cors import CorsRule


async def any_client_allows(request: web.Request, origin: str) -> bool:
    return origin in await request.app[CLIENTS].cors_origins()


async def token_client_allows(request: web.Request, origin: str) -> bool:
    access = request.get(ACCESS_TOKEN)
    if access is None:
        return await any_client_allows(request, origin)
    client = await request.app[CLIENTS].get(access.client_id)
    return client is not None and origin in client.allowed_cors_origins


USERINFO_METHODS = ("GET", "POST")

RULES = {USERINFO_PATH: CorsRule(USERINFO_METHODS, token_client_allows, any_client_allows)}
