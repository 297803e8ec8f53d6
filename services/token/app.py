"""The token service's app factory: ``create_app(settings) -> web.Application``.

Nothing connects here; the pool, Redis client and signing keys open in cleanup_ctx when the
app starts and close when it stops.
"""

from __future__ import annotations

from aiohttp import web

from shared.config import Settings
from shared.web.errors import json_error_middleware
from shared.web.security_headers import security_headers_middleware
from services.token.app_keys import SETTINGS
from services.token.outages import store_outage_middleware
from services.token.resources import CLEANUP_CONTEXTS
from services.token.routes import routes


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        # Outermost first: headers on every answer; errors rendered once; outages become 503.
        middlewares=[security_headers_middleware(https=settings.issuer_is_https), json_error_middleware,
                     store_outage_middleware],
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.extend(CLEANUP_CONTEXTS)
    app.add_routes(routes())
    return app
