"""The resource service's app factory: ``create_app(settings)``; nothing connects at import."""

from __future__ import annotations

from aiohttp import web

from services.resource.app_keys import SETTINGS
from services.resource.cors import RULES
from services.resource.endpoints.notes import NOTES_PATH
from services.resource.resources import CLEANUP_CONTEXTS
from services.resource.routes import PUBLIC_PATHS, routes
from shared.bearer import bearer_middleware
from shared.config import Settings
from shared.endpoints import USERINFO_PATH
from shared.web.cors import cors_middleware
from shared.web.errors import json_error_middleware
from shared.web.metrics import instrument
from shared.web.readiness import readiness_context
from shared.web.security_headers import security_headers_middleware
from shared.web.shedding import database_places_middleware, load_shedding_middleware
from shared.web.unavailable import store_outage_middleware

# A request costs about 0.2 ms of CPU (the signature check) and otherwise waits on Redis (the
# denylist) or, once per user every few seconds, PostgreSQL (/userinfo's cached profile): 64 at
# once is about 13 ms of CPU, so a full place lasts about the queue's overload target. At 16,
# 64 busy clients (wrk -c64, issue 9 §5) made a standing queue of requests waiting on Redis
# and half of them were shed with the CPU not yet full.
MAX_CONCURRENT_REQUESTS = 64


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        # Outermost first: headers on every answer (every 503 says when to come back); CORS
        # (preflights answered before the bearer check, errors readable too); errors rendered
        # once; then the bearer check.
        middlewares=[
            security_headers_middleware(https=settings.resource_url.startswith("https://"),
                                        retry_after=settings.retry_after),
            cors_middleware(RULES),
            json_error_middleware,
            load_shedding_middleware(settings, default_limit=MAX_CONCURRENT_REQUESTS),
            store_outage_middleware,  # PostgreSQL or Redis down: 503, never 500
            # /userinfo also takes an OpenID request's token for another API (it names userinfo too).
            bearer_middleware(public_paths=PUBLIC_PATHS, audience_at={USERINFO_PATH: settings.userinfo_audience}),
            # Only a request whose token passed waits for a PostgreSQL place.
            database_places_middleware(settings, prefixes=(NOTES_PATH,), default_limit=MAX_CONCURRENT_REQUESTS),
        ],
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.extend((*CLEANUP_CONTEXTS, readiness_context(settings)))
    instrument(app)  # request ids, /metrics, traces: outermost, so they see every answer
    app.add_routes(routes())
    return app
