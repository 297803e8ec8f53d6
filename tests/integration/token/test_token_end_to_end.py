"""The whole flow through both real services on real ctx, driven by a third-party client:
Authlib's AsyncOAuth2Client builds the authorization request and talks to the token service
(code with PKCE, refresh, introspection, revocation); a cookie-keeping aiohttp session plays
the browser (login and consent); PyJWT's PyJWKClient verifies the tokens from the jwks_uri
that discovery names."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import warnings
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import aiohttp
import jwt
import pytest
from aiohttp import web
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # this Authlib release warns about its httpx integration on import
    from authlib.integrations.httpx_client import AsyncOAuth2Client

from services.authorize.app import create_app as create_authorize_app
from services.token.app import create_app as create_token_app
from shared.config import Settings
from tests.bench.support import free_port
from tests.support.factories import make_client, make_user
from tests.support.flows import authorize_as_browser

REDIRECT_URI = "https://app.example/callback"
PASSWORD = "correct horse battery"


@contextlib.asynccontextmanager
async def serving(app: web.Application, port: int) -> AsyncIterator[None]:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield
    finally:
        await runner.cleanup()


@pytest.fixture
async def suite(settings: Settings) -> AsyncIterator[Settings]:
    """authorize and token on spare ctx, configured with each other's public URLs."""
    authorize_port, token_port = free_port(), free_port()
    configured = dataclasses.replace(settings, issuer=f"http://127.0.0.1:{authorize_port}",
                                     token_url=f"http://127.0.0.1:{token_port}")
    async with serving(create_authorize_app(configured), authorize_port), \
            serving(create_token_app(configured), token_port):
        yield configured


async def browser_logs_in_and_consents(authorization_url: str, username: str) -> str:
    """Follows the authorization URL as a browser would; returns the URL the client got back."""
    parts = urlsplit(authorization_url)
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP-address host
    async with aiohttp.ClientSession(base_url=f"{parts.scheme}://{parts.netloc}", cookie_jar=jar) as browser:
        callback = await authorize_as_browser(browser, dict(parse_qsl(parts.query)), username=username,
                                              password=PASSWORD)
    return f"{REDIRECT_URI}?{urlencode(callback)}"


def verify_with_jwks_uri(jwks_uri: str, token: str, audience: str, issuer: str) -> dict[str, Any]:
    key = jwt.PyJWKClient(jwks_uri).get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=[key.algorithm_name], audience=audience, issuer=issuer)


async def test_login_consent_code_token_refresh_revoke_with_authlib(suite, pool):
    registered = await make_client(pool, redirect_uris=(REDIRECT_URI,))
    user = await make_user(pool, suite, password=PASSWORD)
    async with aiohttp.ClientSession() as http:
        metadata = await (await http.get(f"{suite.issuer}/.well-known/openid-configuration")).json()
    assert metadata["token_endpoint"] == f"{suite.token_url}/token"

    async with AsyncOAuth2Client(client_id=registered.client_id, client_secret=registered.secret,
                                 scope="openid offline_access notes:read", redirect_uri=REDIRECT_URI,
                                 code_challenge_method="S256",
                                 token_endpoint_auth_method="client_secret_basic") as oauth:
        verifier = generate_token(48)
        url, state = oauth.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier,
                                                    nonce="e2e-nonce")
        callback = await browser_logs_in_and_consents(url, user.username)
        token = await oauth.fetch_token(metadata["token_endpoint"], authorization_response=callback, state=state,
                                        code_verifier=verifier)

        access = await asyncio.to_thread(verify_with_jwks_uri, metadata["jwks_uri"], token["access_token"],
                                         suite.access_audience, suite.issuer)
        id_token = await asyncio.to_thread(verify_with_jwks_uri, metadata["jwks_uri"], token["id_token"],
                                           registered.client_id, suite.issuer)
        assert access["sub"] == id_token["sub"] == str(user.id)
        assert id_token["nonce"] == "e2e-nonce" and access["scope"] == "openid offline_access notes:read"

        refreshed = await oauth.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
        assert refreshed["refresh_token"] != token["refresh_token"]
        await asyncio.to_thread(verify_with_jwks_uri, metadata["jwks_uri"], refreshed["access_token"],
                                suite.access_audience, suite.issuer)

        introspection = (await oauth.introspect_token(metadata["introspection_endpoint"],
                                                      token=refreshed["access_token"])).json()
        assert introspection["active"] is True and introspection["sub"] == str(user.id)

        revoked = await oauth.revoke_token(metadata["revocation_endpoint"], token=refreshed["refresh_token"],
                                           token_type_hint="refresh_token")
        assert revoked.status_code == 200
        with pytest.raises(OAuthError) as refused:
            await oauth.refresh_token(metadata["token_endpoint"], refresh_token=refreshed["refresh_token"])
        assert refused.value.error == "invalid_grant"
        after = (await oauth.introspect_token(metadata["introspection_endpoint"],
                                              token=refreshed["access_token"])).json()
        assert after == {"active": False}
