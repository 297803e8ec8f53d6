"""The route table of the authorize service: every path it answers, in one place."""

from __future__ import annotations

from aiohttp import web

from services.authorize.endpoints import (
    account,
    account_actions,
    authorize,
    consent,
    discovery,
    login,
    logout,
    static,
    switch_account,
)
from shared.endpoints import ACCOUNT_PATH, AUTHORIZE_PATH, CONSENT_PATH, LOGIN_PATH, LOGOUT_PATH, SWITCH_ACCOUNT_PATH
from shared.web.cors import options_route
from shared.web.health import healthz, readyz


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
        web.post(SWITCH_ACCOUNT_PATH, switch_account.submit),
        web.get(ACCOUNT_PATH, account.show),
        web.post(ACCOUNT_PATH + account.ACTIONS["revoke"], account_actions.revoke),
        web.post(ACCOUNT_PATH + account.ACTIONS["end_session"], account_actions.end_session),
        web.post(ACCOUNT_PATH + account.ACTIONS["end_all"], account_actions.end_all),
        web.post(ACCOUNT_PATH + account.ACTIONS["password"], account_actions.change_password),
        web.get(discovery.OPENID_CONFIGURATION_PATH, discovery.handle),
        web.get(discovery.OAUTH_METADATA_PATH, discovery.handle),
        options_route(discovery.OPENID_CONFIGURATION_PATH, discovery.METHODS),
        options_route(discovery.OAUTH_METADATA_PATH, discovery.METHODS),
        web.get(static.STYLESHEET_PATH, static.stylesheet),
        web.get("/healthz", healthz),
        web.get("/readyz", readyz),
    ]
