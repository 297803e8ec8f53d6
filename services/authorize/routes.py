"""The route table of the authorize service: every path it answers, in one place."""

from __future__ import annotations

from aiohttp import web

from services.authorize.endpoints import authorize, consent, discovery, login, logout, static
from services.authorize.app_keys import POOL, REDIS
from shared.endpoints import AUTHORIZE_PATH, CONSENT_PATH, LOGIN_PATH, LOGOUT_PATH
from shared.web.health import healthz, readyz_handler


def routes() -> list[web.RouteDef]:
    return [
        web.get(AUTHORIZE_PATH, authorize.handle),
        web.post(AUTHORIZE_PATH, authorize.handle),
        web.get(LOGIN_PATH, login.show),
        web.post(LOGIN_PATH, login.submit),
        web.get(CONSENT_PATH, consent.show),
        web.post(CONSENT_PATH, consent.submit),
        web.get(LOGOUT_PATH, logout.show),
        web.post(LOGOUT_PATH, logout.submit),
        web.get(discovery.OPENID_CONFIGURATION_PATH, discovery.handle),
        web.get(discovery.OAUTH_METADATA_PATH, discovery.handle),
        web.get(static.STYLESHEET_PATH, static.stylesheet),
        web.get("/healthz", healthz),
        web.get("/readyz", readyz_handler(POOL, REDIS)),
    ]
