"""Who may call the admin API: ``Authorization: Bearer <admin token>`` (RFC 6750 §2.1) on every
route but the health checks, and a read-only token only on reads.

A missing, malformed, unknown or revoked token is the same 401, so a caller learns nothing about
which it was. The write check runs here, before any handler reads the body: a read-only token
gets 403 whatever it sends (never a 422 that would tell it how to shape a write).
"""

from __future__ import annotations

from aiohttp import hdrs, web

from services.admin.app_keys import ADMIN_TOKEN, POOL
from services.admin.core import problems
from shared.management import admin_tokens
from shared.web.errors import Handler
from shared.web.shedding import HEALTH_PATHS

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def presented_token(request: web.Request) -> str | None:
    header = request.headers.getall(hdrs.AUTHORIZATION, [])
    if len(header) != 1:
        return None
    scheme, _, value = header[0].partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


@web.middleware
async def admin_token_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in HEALTH_PATHS:
        return await handler(request)
    raw = presented_token(request)
    token = await admin_tokens.authenticate(request.app[POOL], raw) if raw else None
    if token is None:
        raise problems.unauthorized()
    # Only on a route that exists: an unknown path or method stays 404/405 for every token.
    matched = request.match_info.http_exception is None
    if token.read_only and request.method not in READ_METHODS and matched:
        raise problems.read_only()
    request[ADMIN_TOKEN] = token
    return await handler(request)
