"""{issuer}/.well-known/openid-configuration and /.well-known/oauth-authorization-server.

RFC 8414 §3 and OIDC Discovery §4: one document, serialised once at start-up from settings.
Public metadata, so any origin may read it (single-page apps fetch it cross-origin).
"""

from __future__ import annotations

from aiohttp import web

from services.authorize.app_keys import DISCOVERY
from shared.web.cors import CorsRule

OPENID_CONFIGURATION_PATH = "/.well-known/openid-configuration"
OAUTH_METADATA_PATH = "/.well-known/oauth-authorization-server"
METHODS = ("GET",)
# Any origin, answered "*": a preflight too (an app that sends a header of its own makes one).
CORS_RULES = {path: CorsRule(METHODS, None) for path in (OPENID_CONFIGURATION_PATH, OAUTH_METADATA_PATH)}


async def handle(request: web.Request) -> web.Response:
    return web.Response(body=request.app[DISCOVERY], content_type="application/json",
                        headers={"Access-Control-Allow-Origin": "*"})
