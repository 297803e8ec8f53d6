"""How every service says "not now, try again": 503 temporarily_unavailable with Retry-After.

Two middlewares, used by all three app factories:

- ``store_outage_middleware`` (inside the error middleware) turns a PostgreSQL or Redis outage
  into ``TemporarilyUnavailable``; the service's one error middleware renders it like any other
  protocol error (JSON on the APIs, a page on the authorize service). A store that is down is
  not a bug: nothing was issued and the client may retry.
- ``retry_after_middleware`` (outside it) stamps ``Retry-After`` (RFC 9110 §10.2.3) on every 503,
  whoever produced it: a store outage, load shedding, an unreachable JWKS, /readyz.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Middleware

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


def retry_after_middleware(seconds: int) -> Middleware:
    """Every 503 tells the client when to come back (LATCHKEY_RETRY_AFTER_SECONDS)."""
    value = str(seconds)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # raised, not returned: aiohttp renders it after us
            if exc.status == 503:
                exc.headers.setdefault("Retry-After", value)
            raise
        if response.status == 503 and not response.prepared:
            response.headers.setdefault("Retry-After", value)
        return response

    return middleware
