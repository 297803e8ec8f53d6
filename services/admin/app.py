"""The admin service's app factory: ``create_app(settings)``; nothing connects at import.

The admin HTTP API (issue 11 §6) listens on its own address (LATCHKEY_ADMIN_HOST, loopback by
default; LATCHKEY_ADMIN_PORT), never on the public services' ports.
"""

from __future__ import annotations

from aiohttp import web

from services.admin.app_keys import SETTINGS
from services.admin.authentication import admin_token_middleware
from services.admin.errors import problem_middleware
from services.admin.resources import CLEANUP_CONTEXTS
from services.admin.routes import routes
from shared.config import Settings
from shared.web.metrics import instrument
from shared.web.readiness import readiness_context
from shared.web.security_headers import security_headers_middleware
from shared.web.shedding import load_shedding_middleware
from shared.web.unavailable import store_outage_middleware

# A few operators and scripts, each request a query or two: more at once only queues on the pool.
MAX_CONCURRENT_REQUESTS = 8


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        # Outermost first: headers on every answer (Retry-After on every 503); every error is a
        # problem; beyond the limit a request is shed; outages become 503; then the admin token.
        middlewares=[
            security_headers_middleware(https=False, retry_after=settings.retry_after),
            problem_middleware,
            # The token and its permission are checked before the body is read (the contract), so
            # a body over the limit is a 413 only for a caller allowed to write.
            load_shedding_middleware(settings, default_limit=MAX_CONCURRENT_REQUESTS, read_body_first=False),
            store_outage_middleware,
            admin_token_middleware,
        ],
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.extend((*CLEANUP_CONTEXTS, readiness_context(settings)))
    instrument(app)  # request ids, /metrics, traces: outermost, so they see every answer
    app.add_routes(routes())
    return app
