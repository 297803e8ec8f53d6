"""The resource service's app factory: ``create_app(settings)``; nothing connects at import."""

from __future__ import annotations

from aiohttp import web

from services.resource.app_keys import SETTINGS
from services.resource.cors import RULES
from services.resource.resources import CLEANUP_CONTEXTS
from services.resource.routes import PUBLIC_PATHS, routes
from shared.bearer import bearer_middleware
from shared.config import Settings
from shared.web.cors import cors_middleware
from shared.web.errors import json_error_middleware
from shared.web.metrics import instrument
from shared.web.readiness import readiness_context
from shared.web.security_headers import security_headers_middleware
from shared.web.shedding import load_shedding_middleware
from shared.web.unavailable import retry_after_middleware, store_outage_middleware

# Verifying is CPU-bound and /userinfo reads through a pool of LATCHKEY_DB_POOL_MAX connections:
# more at once than this only lengthens the line inside the process.
MAX_CONCURRENT_REQUESTS = 16


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        # Outermost first: headers on every answer; CORS (preflights answered before the bearer
        # check, errors readable too); errors rendered once; then the bearer check.
        middlewares=[
            security_headers_middleware(https=settings.resource_url.startswith("https://")),
            cors_middleware(RULES),
            retry_after_middleware(settings.retry_after),  # every 503 says when to come back
            json_error_middleware,
            load_shedding_middleware(settings, default_limit=MAX_CONCURRENT_REQUESTS),
            store_outage_middleware,  # PostgreSQL or Redis down: 503, never 500
            bearer_middleware(public_paths=PUBLIC_PATHS),
        ],
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.extend((*CLEANUP_CONTEXTS, readiness_context(settings)))
    instrument(app)  # request ids, /metrics, traces: outermost, so they see every answer
    app.add_routes(routes())
    return app
