"""Absolute URLs of every endpoint of the suite, built from configuration only.

The issuer and public base URLs come from settings (docs/contract.md), never from request headers,
so a forged Host header cannot change what discovery or tokens say.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import Settings

# Paths inside each service; the route tables use the same constants.
AUTHORIZE_PATH = "/authorize"
LOGIN_PATH = "/login"
CONSENT_PATH = "/consent"
LOGOUT_PATH = "/logout"
SWITCH_ACCOUNT_PATH = "/login/switch"
ACCOUNT_PATH = "/account"
TOKEN_PATH = "/token"
JWKS_PATH = "/jwks"
REVOKE_PATH = "/revoke"
INTROSPECT_PATH = "/introspect"
USERINFO_PATH = "/userinfo"


@dataclass(frozen=True, slots=True)
class Endpoints:
    issuer: str
    authorization: str
    logout: str
    token: str
    jwks: str
    revocation: str
    introspection: str
    userinfo: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Endpoints:
        return cls(
            issuer=settings.issuer,
            authorization=settings.issuer + AUTHORIZE_PATH,
            logout=settings.issuer + LOGOUT_PATH,
            token=settings.token_url + TOKEN_PATH,
            jwks=settings.token_url + JWKS_PATH,
            revocation=settings.token_url + REVOKE_PATH,
            introspection=settings.token_url + INTROSPECT_PATH,
            userinfo=settings.resource_url + USERINFO_PATH,
        )
