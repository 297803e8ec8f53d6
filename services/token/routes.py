"""The route table of the token service: every path it answers, in one place."""

from __future__ import annotations

from aiohttp import web

from services.token.cors import JWKS_METHODS, TOKEN_METHODS
from services.token.endpoints import health, introspect, jwks, revoke, token
from shared.endpoints import INTROSPECT_PATH, JWKS_PATH, REVOKE_PATH, TOKEN_PATH
from shared.web.cors import options_route


def routes() -> list[web.RouteDef]:
    return [
        web.post(TOKEN_PATH, token.token),
        web.post(REVOKE_PATH, revoke.revoke),
        web.post(INTROSPECT_PATH, introspect.introspection),
        web.get(JWKS_PATH, jwks.jwks),
        options_route(TOKEN_PATH, TOKEN_METHODS),
        options_route(REVOKE_PATH, TOKEN_METHODS),
        options_route(JWKS_PATH, JWKS_METHODS),
        web.get("/healthz", health.healthz),
        web.get("/readyz", health.readyz),
    ]
