"""How every service says "not now, try again": 503 temporarily_unavailable with Retry-After.

``store_outage_middleware`` (inside the error middleware, in every app factory) turns
a PostgreSQL or Redis outage into ``TemporarilyUnavailable``; the service's one error middleware
renders it like any other protocol error (JSON on the APIs, a page on the authorize service). A
store that is down is not a bug: nothing was issued and the client may retry. Every 503, whoever
produced it, gets ``Retry-After`` from the outermost middleware (shared.web.security_headers).
"""

from __future__ import annotations

import logging

from aiohttp import web

from shared.errors import TemporarilyUnavailable
from shared.stores.outages import STORE_ERRORS
from shared.web.errors import Handler
from shared.web.metrics import route_template

log = logging.getLogger("latchkey.outage")


@web.middleware
async def store_outage_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except STORE_ERRORS as exc:
        # The route template: a path may carry a username or a client id.
        log.warning("store unavailable on %s %s: %s", request.method, route_template(request), type(exc).__name__)
        raise TemporarilyUnavailable("a backing store is unavailable; try again") from exc
