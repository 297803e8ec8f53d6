"""The resource service's app factory: ``create_app(settings)``; nothing connects at import."""

from __future__ import annotations

from aiohttp import web

from shared.bearer import bearer_middleware
from shared.config import Settings
from shared.web.errors import json_error_middleware
from shared.web.security_headers import security_headers_middleware
from services.resource.app_keys import SETTINGS
from services.resource.resources import CLEANUP_CONTEXTS
from services.resource.routes import PUBLIC_PATHS, routes


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        # Outermost first: headers on every answer; errors rendered once; then the bearer check.
        middlewares=[
            security_headers_middleware(https=settings.resource_url.startswith("https://")),
            json_error_middleware,
            bearer_middleware(public_paths=PUBLIC_PATHS),
        ],
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.extend(CLEANUP_CONTEXTS)
    app.add_routes(routes())
    return app
