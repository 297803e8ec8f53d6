"""Who may call the admin API: ``Authorization: Bearer <admin token>`` (RFC 6750 §2.1) on every
route but the health checks, and a read-only token only on reads; and how often.

A missing, malformed, unknown or revoked token is the same 401, so a caller learns nothing about
which it was. The write check runs here, before any handler reads the body: a read-only token
gets 403 whatever it sends (never a 422 that would tell it how to shape a write).

Rate limits (shared.web.rate_limits, GCRA buckets in Redis): each admin token has a budget of
requests a minute (LATCHKEY_ADMIN_RATE_LIMIT_PER_TOKEN), counted by its name; each client
address has one of requests without a valid token (LATCHKEY_ADMIN_RATE_LIMIT_AUTH_FAILURES_PER_IP).
Past either, the answer is a 429 problem with Retry-After, and an address past its failure budget
is refused whatever it sends, a right token included, so guessing tokens gains nothing from then
on: a limited guess is answered 429 whether it was right or wrong.
"""

from __future__ import annotations

import logging

from aiohttp import hdrs, web

from services.admin.app_keys import ADMIN_TOKEN, POOL, RATE_LIMITER, SETTINGS
from services.admin.core import problems
from shared.management import admin_tokens
from shared.web.client_address import client_address
from shared.web.errors import Handler
from shared.web.metrics import OPEN_PATHS
from shared.web.rate_limits import RateLimited

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

log = logging.getLogger("latchkey.admin")


def presented_token(request: web.Request) -> str | None:
    header = request.headers.getall(hdrs.AUTHORIZATION, [])
    if len(header) != 1:
        return None
    scheme, _, value = header[0].partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


async def _admit(request: web.Request, token_name: str | None, address: str) -> None:
    """Counts the request against the token's budget; 429 when it, or the address's failures, is over."""
    try:
        await request.app[RATE_LIMITER].admit(token_name, address)
    except RateLimited as limited:
        raise problems.rate_limited(limited.retry_after) from None


@web.middleware
async def admin_token_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in OPEN_PATHS:
        return await handler(request)
    address = client_address(request, request.app[SETTINGS].trusted_proxies)
    raw = presented_token(request)
    token = await admin_tokens.authenticate(request.app[POOL], raw) if raw else None
    await _admit(request, None if token is None else token.name, address)
    if token is None:
        if await request.app[RATE_LIMITER].record_failure(None, address):
            log.warning("admin API: %s crossed its limit of requests without a valid admin token", address)
        raise problems.unauthorized()
    # Only on a route that exists: an unknown path or method stays 404/405 for every token.
    matched = request.match_info.http_exception is None
    if token.read_only and request.method not in READ_METHODS and matched:
        raise problems.read_only()
    request[ADMIN_TOKEN] = token
    return await handler(request)
