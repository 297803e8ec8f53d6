"""The token service's app factory and its one route table."""

from __future__ import annotations

from aiohttp import web

from shared.config import Settings
from shared.endpoints import INTROSPECT_PATH, JWKS_PATH, REVOKE_PATH, TOKEN_PATH
from shared.web.errors import json_error_middleware
from shared.web.security_headers import security_headers_middleware
from services.token.endpoints import health, introspect, jwks, revoke, token
from services.token.app_keys import SETTINGS
from services.token.outages import store_outage_middleware
from services.token.resources import CLEANUP_CONTEXTS

ROUTES = [
    web.post(TOKEN_PATH, token.token),
    web.post(REVOKE_PATH, revoke.revoke),
    web.post(INTROSPECT_PATH, introspect.introspection),
    web.get(JWKS_PATH, jwks.jwks),
    web.get("/healthz", health.healthz),
    web.get("/readyz", health.readyz),
]


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        # Outermost first: headers on every answer; errors rendered once; outages become 503.
        middlewares=[security_headers_middleware(https=settings.issuer_is_https), json_error_middleware,
                     store_outage_middleware],
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.extend(CLEANUP_CONTEXTS)
    app.add_routes(ROUTES)
    return app
