"""The token service's app factory: ``create_app(settings) -> web.Application``.

Nothing connects here; the pool, Redis client and signing keys open in cleanup_ctx when the
app starts and close when it stops.
"""

from __future__ import annotations

from aiohttp import web

from services.token.app_keys import SETTINGS
from services.token.cors import RULES
from services.token.resources import CLEANUP_CONTEXTS
from services.token.routes import routes
from shared.config import Settings
from shared.web.cors import cors_middleware
from shared.web.errors import json_error_middleware
from shared.web.metrics import instrument
from shared.web.readiness import readiness_context
from shared.web.security_headers import security_headers_middleware
from shared.web.shedding import load_shedding_middleware
from shared.web.unavailable import store_outage_middleware

# Signing is CPU-bound on one event loop: with the stores nearby two exchanges at once keep it
# busy and more only make each slower (the target: accepted p99 within 3x the unloaded
# p99); with them across a network, more overlap their waits. So the limit adapts between the
# two (shared.web.adaptive_limit).
MIN_CONCURRENT_REQUESTS, MAX_CONCURRENT_REQUESTS = 2, 8


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        # Outermost first: headers on every answer (Retry-After on every 503); CORS (preflights
        # answered before anything else, errors readable too); errors rendered once; beyond the
        # limit a request is shed; outages become 503.
        middlewares=[security_headers_middleware(https=settings.issuer_is_https, retry_after=settings.retry_after),
                     cors_middleware(RULES), json_error_middleware,
                     load_shedding_middleware(settings, default_limit=MAX_CONCURRENT_REQUESTS,
                                              default_floor=MIN_CONCURRENT_REQUESTS),
                     store_outage_middleware],
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.extend((*CLEANUP_CONTEXTS, readiness_context(settings)))
    instrument(app)  # request ids, /metrics, traces: outermost, so they see every answer
    app.add_routes(routes())
    return app
