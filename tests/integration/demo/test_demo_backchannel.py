"""The demo app's Back-Channel Logout receiver (OIDC Back-Channel Logout 1.0 §2.5-§2.8), over
real HTTP: a stand-in provider serves discovery and a JWKS on a spare port, the tests sign
logout tokens with its keys (and with keys it does not publish), and the demo app runs on
another port with signed-in sessions of its own.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web

import examples.demo_client.provider as demo_provider
from examples.demo_client.app import create_app as create_demo
from examples.demo_client.config import DemoConfig
from examples.demo_client.logout_token import BACKCHANNEL_LOGOUT_EVENT
from examples.demo_client.sessions import COOKIE_NAME, TokenSet
from examples.demo_client.state import SESSIONS
from tests.integration.resource.minting import TestKey, new_key
from tests.integration.resource.serving import JwksServer, RunningApp, spare_socket, url_of

CLIENT_ID = "demo-under-test"


@dataclass
class Suite:
    issuer: str
    demo: RunningApp
    jwks: JwksServer
    key: TestKey

    def sign_in(self, *, sid: str, sub: str) -> str:
        """A signed-in demo session, as the callback leaves it; returns its cookie value."""
        session_id, session = self.demo.app[SESSIONS].create()
        session.tokens = TokenSet(access_token="at", refresh_token="rt", id_token="it",
                                  id_claims={"iss": self.issuer, "sub": sub, "sid": sid, "aud": CLIENT_ID},
                                  expires_at=time.time() + 300, scope="openid")
        return session_id

    def signed_in(self, session_id: str) -> bool:
        session = self.demo.app[SESSIONS].get(session_id)
        return session is not None and session.tokens is not None

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 120,
                  "jti": secrets.token_urlsafe(16), "sid": "sid-1", "sub": "user-1",
                  "events": {BACKCHANNEL_LOGOUT_EVENT: {}}, **changes}
        return {k: v for k, v in claims.items() if v is not None}  # None removes a claim

    def logout_token(self, key: TestKey | None = None, *, typ: str | None = "logout+jwt", **changes: Any) -> str:
        key = key or self.key
        headers = {"kid": key.kid, "typ": typ}  # typ None: PyJWT leaves the header out
        return jwt.encode(self.claims(**changes), key.private_key, algorithm=key.alg, headers=headers)


@contextlib.asynccontextmanager
async def provider_serving(jwks_url: str) -> AsyncIterator[str]:
    """Discovery only: the demo learns the jwks_uri from it, as from Latchkey."""
    sock = spare_socket()
    issuer = url_of(sock)

    async def discovery(request: web.Request) -> web.Response:
        return web.json_response({
            "issuer": issuer, "authorization_endpoint": issuer + "/authorize", "token_endpoint": issuer + "/token",
            "jwks_uri": jwks_url, "userinfo_endpoint": issuer + "/userinfo", "end_session_endpoint": issuer + "/logout",
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        })

    app = web.Application()
    app.router.add_get("/.well-known/openid-configuration", discovery)
    async with RunningApp(app, sock):
        yield issuer


@pytest.fixture
async def suite(monkeypatch) -> AsyncIterator[Suite]:
    monkeypatch.setattr(demo_provider, "JWKS_REFETCH_COOLDOWN", 0)  # "down then up" without a 10 s wait
    key = new_key("RS256")
    async with JwksServer([key.public_jwk]) as jwks, provider_serving(jwks.url) as issuer:
        config = DemoConfig(public_url="http://127.0.0.1:1", issuer=issuer, resource_url="http://127.0.0.1:1",
                            client_id=CLIENT_ID, client_secret="s3cret")
        async with RunningApp(create_demo(config)) as demo:
            yield Suite(issuer, demo, jwks, key)


async def post_logout(suite: Suite, body: Any, content_type: str = "application/x-www-form-urlencoded"
                      ) -> tuple[int, dict[str, str], Any]:
    async with aiohttp.ClientSession() as http:
        if isinstance(body, dict):
            body = "&".join(f"{k}={v}" for k, v in body.items())
        async with http.post(suite.demo.url + "/backchannel-logout", data=body,
                             headers={"Content-Type": content_type}) as response:
            text = await response.text()
            parsed = await response.json() if response.content_type == "application/json" else text
            return response.status, dict(response.headers), parsed


async def home_page(suite: Suite, session_id: str) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.get(suite.demo.url + "/", headers={"Cookie": f"{COOKIE_NAME}={session_id}"}) as response:
            return await response.text()


async def test_a_valid_logout_token_ends_the_session_it_names(suite):
    here, elsewhere = suite.sign_in(sid="sid-1", sub="user-1"), suite.sign_in(sid="sid-2", sub="user-1")
    status, headers, body = await post_logout(suite, {"logout_token": suite.logout_token()})
    assert (status, body) == (200, "")
    assert headers["Cache-Control"] == "no-store"
    assert not suite.signed_in(here) and suite.signed_in(elsewhere)
    page = await home_page(suite, here)  # the browser's next page: signed out, and told why
    assert "Sign in with Latchkey" in page and "back-channel logout" in page


async def test_a_logout_token_without_sid_ends_every_session_of_the_user(suite):
    sessions = [suite.sign_in(sid=sid, sub="user-1") for sid in ("sid-1", "sid-2")]
    other = suite.sign_in(sid="sid-3", sub="user-2")
    status, _, _ = await post_logout(suite, {"logout_token": suite.logout_token(sid=None, typ=None)})
    assert status == 200
    assert [suite.signed_in(s) for s in sessions] == [False, False] and suite.signed_in(other)


async def test_a_logout_token_for_no_session_of_ours_is_still_a_success(suite):
    status, _, _ = await post_logout(suite, {"logout_token": suite.logout_token(sid="unknown")})
    assert status == 200


async def test_a_replayed_logout_token_is_refused(suite):
    token = suite.logout_token()
    assert (await post_logout(suite, {"logout_token": token}))[0] == 200
    session = suite.sign_in(sid="sid-1", sub="user-1")  # signed in again, same sid
    status, headers, body = await post_logout(suite, {"logout_token": token})
    assert status == 400 and headers["Cache-Control"] == "no-store"
    assert body == {"error": "invalid_request",
                    "error_description": "logout_token refused: this token was already used"}
    assert suite.signed_in(session)


@pytest.mark.parametrize("make, reason", [
    pytest.param(lambda s: s.logout_token(aud="another-client"), "aud", id="for another client"),
    pytest.param(lambda s: s.logout_token(iss="https://evil.example"), "iss", id="another issuer"),
    pytest.param(lambda s: s.logout_token(exp=int(time.time()) - 60), "expired", id="expired"),
    pytest.param(lambda s: s.logout_token(iat=int(time.time()) + 600), "iat", id="issued in the future"),
    pytest.param(lambda s: s.logout_token(events={"urn:other": {}}), "events", id="without the logout event"),
    pytest.param(lambda s: s.logout_token(nonce="n-1"), "nonce", id="with a nonce"),
    pytest.param(lambda s: s.logout_token(sid=None, sub=None), "neither sub nor sid", id="names nobody"),
    pytest.param(lambda s: s.logout_token(jti=None), "jti", id="without jti"),
    pytest.param(lambda s: s.logout_token(typ="JWT"), "typ", id="typed as an ID token"),
    pytest.param(lambda s: s.logout_token(key=new_key("RS256")), "unknown signing key", id="unpublished key"),
    pytest.param(lambda s: _tampered(s.logout_token()), "invalid signature", id="tampered"),
    pytest.param(lambda s: _unsigned(s), "algorithm|alg|signature", id="alg none"),
    pytest.param(lambda s: "not-a-jwt", "malformed", id="not a JWT"),
])
async def test_bad_logout_tokens_are_refused_and_end_nothing(suite, make, reason):
    session = suite.sign_in(sid="sid-1", sub="user-1")
    status, headers, body = await post_logout(suite, {"logout_token": make(suite)})
    assert status == 400 and headers["Cache-Control"] == "no-store"
    assert body["error"] == "invalid_request"
    assert re.search(reason, body["error_description"]), body
    assert suite.signed_in(session)


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = jwt.utils.base64url_decode(payload).replace(b'"sid-1"', b'"sid-9"')
    return ".".join((header, jwt.utils.base64url_encode(claims).decode(), signature))


def _unsigned(suite: Suite) -> str:
    header = jwt.utils.base64url_encode(b'{"alg":"none","kid":"%s"}' % suite.key.kid.encode()).decode()
    payload = jwt.utils.base64url_encode(json.dumps(suite.claims()).encode()).decode()
    return f"{header}.{payload}."


@pytest.mark.parametrize("body, content_type", [
    pytest.param({}, "application/x-www-form-urlencoded", id="no logout_token"),
    pytest.param("logout_token=a&logout_token=b", "application/x-www-form-urlencoded", id="two logout_tokens"),
    pytest.param('{"logout_token": "x"}', "application/json", id="JSON instead of a form"),
    pytest.param("logout_token=%zz", "application/x-www-form-urlencoded", id="broken percent-escape"),
])
async def test_malformed_requests_are_refused(suite, body, content_type):
    status, headers, answer = await post_logout(suite, body, content_type)
    assert status == 400 and headers["Cache-Control"] == "no-store"
    assert answer["error"] == "invalid_request"


async def test_while_the_providers_keys_cannot_be_fetched_the_sender_is_told_to_retry(suite):
    """503, not 400: the token may be fine, and the provider retries a 5xx; once the keys are
    back, the same token is accepted (it was not recorded as used)."""
    session = suite.sign_in(sid="sid-1", sub="user-1")
    token = suite.logout_token()
    suite.jwks.status = 500
    status, headers, body = await post_logout(suite, {"logout_token": token})
    assert (status, body["error"], headers["Cache-Control"]) == (503, "temporarily_unavailable", "no-store")
    assert suite.signed_in(session)
    suite.jwks.status = 200
    status, _, _ = await post_logout(suite, {"logout_token": token})
    assert status == 200 and not suite.signed_in(session)
