"""CORS (the Fetch standard's CORS protocol) for the few endpoints a browser app calls itself:
token, revocation, userinfo, JWKS and discovery. Nothing else gets CORS headers: not /authorize,
not the pages, not introspection (a resource server's back channel, never a browser's).

A rule per path decides whether an origin may read the answer. The origin is echoed (never
``*``, except for public data such as the JWKS) only when the rule allows it, so a page on any
other origin cannot read the response: the browser blocks it. Errors get the same headers as
successes, so an allowed app can read why its request failed.

A preflight (OPTIONS with Access-Control-Request-Method) carries no credentials, so it is
answered here, before any authentication or load shedding, with the rule's preflight check
(the request names no client yet: usually "allowed for some client"). A rule that cannot look
its origins up (a store is down) allows nothing: the browser sees a CORS failure, not stale access.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

from shared.stores.outages import STORE_ERRORS
from shared.web.errors import Handler

log = logging.getLogger("latchkey.cors")

OriginCheck = Callable[[web.Request, str], Awaitable[bool]]

ALLOW_HEADERS = "Authorization, Content-Type"
# Not CORS-safelisted, yet an app needs them: the bearer challenge, when to retry, the log's key.
EXPOSE_HEADERS = "WWW-Authenticate, Retry-After, X-Request-Id"
# How long a browser may reuse a preflight (Chromium caps it at 7200 s). It only spares the
# OPTIONS round trip: every actual response is checked against the origin again.
MAX_AGE_SECONDS = 600


@dataclass(frozen=True, slots=True)
class CorsRule:
    """``allows`` decides for an actual request (after its handler ran, so it may look at what
    the handler learnt, such as the client); ``preflight_allows`` for a preflight. ``allows``
    None: any origin, answered ``*`` (public data: nothing per origin, so no Vary)."""

    methods: tuple[str, ...]
    allows: OriginCheck | None
    preflight_allows: OriginCheck | None = None


def cors_middleware(rules: Mapping[str, CorsRule]) -> Middleware:
    """Answers preflights and adds the CORS headers on the paths of ``rules``; place it outside
    the error, shedding and authentication middlewares so it sees every answer."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        rule = rules.get(request.path)
        origin = request.headers.get("Origin")
        if rule is None or origin is None:
            return await handler(request)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            return await _preflight(request, rule, origin)
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # raised, not returned: aiohttp renders it after us
            await _decorate(request, exc, rule, origin)
            raise
        await _decorate(request, response, rule, origin)
        return response

    return middleware


async def _allowed(request: web.Request, check: OriginCheck | None, origin: str) -> bool:
    if check is None:
        return True
    try:
        return await check(request, origin)
    except STORE_ERRORS as exc:
        log.warning("cannot look up the CORS origins on %s (%s); origin not allowed", request.path,
                    type(exc).__name__)
        return False


async def _preflight(request: web.Request, rule: CorsRule, origin: str) -> web.Response:
    response = web.Response(status=204)
    check = rule.preflight_allows or rule.allows
    if rule.allows is not None:
        response.headers["Vary"] = "Origin"
    if await _allowed(request, check, origin):
        response.headers.update({
            "Access-Control-Allow-Origin": "*" if rule.allows is None else origin,
            "Access-Control-Allow-Methods": ", ".join(rule.methods),
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
        })
    return response


async def _decorate(request: web.Request, response: web.StreamResponse, rule: CorsRule, origin: str) -> None:
    if response.prepared:  # already streaming: too late for headers
        return
    if rule.allows is None:
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
        response.headers.setdefault("Access-Control-Expose-Headers", EXPOSE_HEADERS)
        return
    # The answer depends on Origin whether or not this one is allowed (Fetch: "CORS protocol and HTTP caches").
    vary = response.headers.get("Vary")
    response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
    if await _allowed(request, rule.allows, origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS


def options_route(path: str, methods: tuple[str, ...]) -> web.RouteDef:
    """OPTIONS on a CORS path: preflights never reach it (the middleware answers them); a plain
    OPTIONS is told the methods (RFC 9110 §9.3.7). Routed, so metrics label it by its path."""
    allow = ", ".join((*methods, "OPTIONS"))

    async def options(request: web.Request) -> web.Response:
        return web.Response(status=204, headers={"Allow": allow})

    return web.options(path, options)
