"""The authorize service's app factory: ``create_app(settings) -> web.Application``.

Nothing connects here; the pool, Redis client and hashing executor open in cleanup_ctx when
the app starts and close when it stops.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web

from services.authorize.app_keys import COOKIES, DISCOVERY, PATHS, POLICY, SETTINGS, STYLESHEET
from services.authorize.cookies import Cookies
from services.authorize.core.authorization_request import Policy
from services.authorize.core.discovery import server_metadata
from services.authorize.deps import Paths
from services.authorize.endpoints import discovery
from services.authorize.error_pages import html_error_middleware
from services.authorize.resources import CLEANUP_CONTEXTS
from services.authorize.routes import routes
from shared.config import Settings
from shared.web.cors import cors_middleware
from shared.web.metrics import instrument
from shared.web.readiness import readiness_context
from shared.web.security_headers import PAGE_CSP, security_headers_middleware
from shared.web.shedding import load_shedding_middleware
from shared.web.unavailable import store_outage_middleware

HERE = Path(__file__).parent
# Logins wait for the argon2 threads (LATCHKEY_HASH_WORKERS), pages for PostgreSQL and Redis:
# a few more at once than the hashing threads keeps them busy without a long line behind them.
MAX_CONCURRENT_REQUESTS = 16


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        # Outermost first: security headers land on every response, error pages included, and
        # Retry-After on every 503; CORS preflights of discovery are answered before anything else;
        # beyond the limit a request is shed; outages become 503 pages.
        middlewares=[security_headers_middleware(https=settings.issuer_is_https, csp=PAGE_CSP,
                                                 retry_after=settings.retry_after),
                     cors_middleware(discovery.CORS_RULES), html_error_middleware,
                     load_shedding_middleware(settings, default_limit=MAX_CONCURRENT_REQUESTS),
                     store_outage_middleware],
    )
    stylesheet = (HERE / "static" / "style.css").read_bytes()
    app[SETTINGS] = settings
    app[POLICY] = Policy(require_pkce=settings.require_pkce, audience=settings.access_audience)
    app[PATHS] = Paths.under(urlsplit(settings.issuer).path.rstrip("/"), hashlib.sha256(stylesheet).hexdigest()[:12])
    app[COOKIES] = Cookies(secure=settings.issuer_is_https, session_ttl=settings.session_ttl)
    app[DISCOVERY] = json.dumps(server_metadata(settings), indent=2).encode()
    app[STYLESHEET] = stylesheet
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                         undefined=jinja2.StrictUndefined, default_helpers=False)
    app.cleanup_ctx.extend((*CLEANUP_CONTEXTS, readiness_context(settings)))
    instrument(app)  # request ids, /metrics, traces: outermost, so they see every answer
    app.add_routes(routes())
    return app
