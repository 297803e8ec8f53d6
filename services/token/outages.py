"""A store that is down is not a bug: answer 503 temporarily_unavailable, not server_error.

This middleware only translates the exception; shared.web.errors renders it like every other
protocol error (JSON, no-store). The client may retry; nothing was issued.
"""

from __future__ import annotations

import logging

from aiohttp import web

from shared.errors import TemporarilyUnavailable
from shared.stores.outages import STORE_ERRORS
from shared.web.errors import Handler

log = logging.getLogger("latchkey.token")


@web.middleware
async def store_outage_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except STORE_ERRORS as exc:
        log.warning("store unavailable on %s %s: %s", request.method, request.path, type(exc).__name__)
        raise TemporarilyUnavailable("a backing store is unavailable; try again") from exc
