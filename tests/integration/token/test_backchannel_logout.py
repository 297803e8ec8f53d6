"""OIDC Back-Channel Logout 1.0 as a relying party sees it: the real authorize and token services
on spare ports, a real browser session (aiohttp with cookies), and a real HTTP receiver at the
client's backchannel_logout_uri. Each test has its own Redis prefix, so its own logout queue."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import secrets
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from redis.asyncio import Redis

from services.authorize.app import create_app as create_authorize_app
from services.token.app import create_app as create_token_app
from shared.bearer.revocation import revoked_before_key
from shared.config import Settings
from shared.crypto.digests import new_secret, sha256_hex
from shared.logout.queue import LogoutQueue
from shared.management import clients as client_ops
from shared.management import consents, users
from shared.management.backends import Backends
from shared.models import NewRefreshToken, User
from shared.stores.outages import STORE_ERRORS
from shared.stores.pg_refresh_tokens import PgRefreshTokens
from shared.stores.redis_denylist import RedisDenylist
from tests.integration.resource.serving import RunningApp, spare_socket, url_of
from tests.support.factories import RegisteredClient, make_client, make_user
from tests.support.flows import Pkce, authorization_params, authorize_as_browser, csrf_token, location_of
from tests.support.secrets import ACCESS_LOG, register

REDIRECT_URI = "https://app.example/callback"
PASSWORD = "correct horse battery"
EVENT = "http://schemas.openid.net/event/backchannel-logout"


class Receiver:
    """A relying party's back-channel logout endpoint. ``answers``: the statuses of the next
    POSTs (then 200); ``hang``: POSTs are held until the test ends. Its port is reserved from the
    start, but it refuses connections until ``start`` (a receiver that is down)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        self.uri = url_of(self.sock) + "/backchannel-logout"
        self.answers: list[int] = []
        self.hang = False
        self.posts: list[tuple[str, dict[str, str]]] = []  # (content type, form)
        self.received = asyncio.Event()
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_post("/backchannel-logout", self._post)
        self._runner = web.AppRunner(app, **ACCESS_LOG)  # type: ignore[arg-type]
        self._started = False

    async def _post(self, request: web.Request) -> web.Response:
        self.posts.append((request.content_type, dict(await request.post())))  # type: ignore[arg-type]
        if self.hang:
            await self._release.wait()
        status = self.answers.pop(0) if self.answers else 200
        if status == 200:
            self.received.set()
        return web.Response(status=status, headers={"Cache-Control": "no-store"})

    async def start(self) -> None:
        self.sock.listen(16)
        self.sock.setblocking(False)
        await self._runner.setup()
        await web.SockSite(self._runner, self.sock).start()
        self._started = True

    async def close(self) -> None:
        self._release.set()
        if self._started:
            await self._runner.cleanup()
        self.sock.close()

    @property
    def tokens(self) -> list[str]:
        return [form["logout_token"] for _, form in self.posts]


@dataclass
class Suite:
    settings: Settings
    backends: Backends
    http: aiohttp.ClientSession
    token_app: Callable[[], contextlib.AbstractAsyncContextManager[RunningApp]]
    receivers: list[Receiver] = field(default_factory=list)

    async def receiver(self, *, up: bool = True) -> Receiver:
        receiver = Receiver()
        self.receivers.append(receiver)
        if up:
            await receiver.start()
        return receiver

    async def client(self, receiver: Receiver, *, session_required: bool = False,
                     id_token_alg: str | None = None) -> RegisteredClient:
        registered = await make_client(self.backends.db, redirect_uris=(REDIRECT_URI,),
                                       id_token_alg=id_token_alg)
        await client_ops.update(self.backends, registered.client_id, client_ops.ClientUpdate(
            backchannel_logout_uri=receiver.uri, backchannel_logout_session_required=session_required))
        return registered

    async def audited(self, client_id: str, count: int = 1, within: float = 15.0) -> list[dict[str, Any]]:
        """The ``backchannel_logout`` audit records of the client, once there are ``count``."""
        deadline = time.monotonic() + within
        while True:
            rows = await self.backends.db.fetch(
                "SELECT user_id, details FROM audit_events WHERE event_type = 'backchannel_logout' AND client_id = $1"
                " ORDER BY id", client_id)
            if len(rows) >= count:
                return [{"user_id": str(r["user_id"]), **r["details"]} for r in rows]
            assert time.monotonic() < deadline, f"{len(rows)} of {count} back-channel logouts audited"
            await asyncio.sleep(0.05)


@pytest.fixture
async def suite(settings: Settings, pool, redis) -> AsyncIterator[Suite]:
    """authorize and token on spare ports, with a Redis prefix (so a logout queue) of their own
    and quick retries (100 ms, doubling, 6 tries; 2 s per POST)."""
    authorize_sock, token_sock = spare_socket(), spare_socket()
    configured = dataclasses.replace(
        settings, redis_prefix=f"{settings.redis_prefix}{secrets.token_hex(4)}:", issuer=url_of(authorize_sock),
        token_url=url_of(token_sock), backchannel_logout_backoff_ms=100, backchannel_logout_attempts=6,
        backchannel_logout_timeout=2)

    def token_app(**overrides: Any) -> contextlib.AbstractAsyncContextManager[RunningApp]:
        return RunningApp(create_token_app(dataclasses.replace(configured, **overrides)), spare_socket())

    async with RunningApp(create_authorize_app(configured), authorize_sock), aiohttp.ClientSession() as http:
        suite = Suite(configured, Backends(pool, redis, configured), http, token_app)
        try:
            yield suite
        finally:
            for receiver in suite.receivers:
                await receiver.close()
            token_sock.close()


@pytest.fixture
async def user(pool, settings) -> User:
    return await make_user(pool, settings, password=PASSWORD)


@dataclass
class Browser:
    """One browser's sign-in: its cookie jar, and the tokens the client got in that session."""

    session: aiohttp.ClientSession
    tokens: dict[str, Any]

    @property
    def id_claims(self) -> dict[str, Any]:
        return jwt.decode(self.tokens["id_token"], options={"verify_signature": False})


@contextlib.asynccontextmanager
async def browser(suite: Suite) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=suite.settings.issuer, cookie_jar=aiohttp.CookieJar(unsafe=True)) as b:
        yield b


async def sign_in(suite: Suite, session: aiohttp.ClientSession, client: RegisteredClient, user: User,
                  token_url: str | None, scope: str = "openid offline_access", **extra: str) -> Browser:
    """Login and consent in ``session``; the code is exchanged when a token service runs.
    ``extra``: more authorization parameters (prompt=login)."""
    pkce = Pkce.new()
    params = authorization_params(client_id=client.client_id, redirect_uri=REDIRECT_URI, scope=scope,
                                  code_verifier=pkce.verifier, **extra)
    callback = await authorize_as_browser(session, params, username=user.username, password=PASSWORD)
    if token_url is None:
        return Browser(session, {})
    form = {"grant_type": "authorization_code", "code": callback["code"], "redirect_uri": REDIRECT_URI,
            "code_verifier": pkce.verifier}
    async with suite.http.post(token_url + "/token", data=form,
                               headers=basic(client)) as response:
        assert response.status == 200, await response.text()
        tokens = await response.json()
    register(tokens.get("refresh_token"))
    return Browser(session, tokens)


async def rp_logout(browser: Browser, client: RegisteredClient) -> tuple[int, float]:
    """RP-Initiated Logout with a valid id_token_hint: the session ends at once. Returns the
    status and how long the user waited."""
    started = time.monotonic()
    async with browser.session.get("/logout", params={"id_token_hint": browser.tokens["id_token"],
                                                      "client_id": client.client_id}) as response:
        assert "You are signed out" in await response.text()
        return response.status, time.monotonic() - started


async def user_logout(session: aiohttp.ClientSession) -> float:
    """The user signs out on the confirmation page (no hint)."""
    started = time.monotonic()
    async with session.get("/logout") as page:
        csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert csrf is not None
    async with session.post("/logout", data={"csrf": csrf.group(1)}) as response:
        assert response.status == 200 and "You are signed out" in await response.text()
    return time.monotonic() - started


def basic(client: RegisteredClient) -> dict[str, str]:
    return {"Authorization": aiohttp.encode_basic_auth(client.client_id, client.secret or "")}


def verified(token: str, jwks_uri: str, client_id: str, issuer: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a logout token, its signature checked against the published JWKS."""
    key = jwt.PyJWKClient(jwks_uri).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=[key.algorithm_name], audience=client_id, issuer=issuer,
                        options={"require": ["iss", "aud", "iat", "exp", "jti"]})
    return jwt.get_unverified_header(token), claims


async def delivered_count(suite: Suite, token_url: str, outcome: str) -> float:
    async with suite.http.get(token_url + "/metrics") as response:
        text = await response.text()
    found = re.search(rf'^latchkey_backchannel_logout_deliveries_total\{{outcome="{outcome}"\}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


@pytest.mark.parametrize("session_required, id_token_alg", [(False, None), (True, "RS256")],
                         ids=["sid-optional-es256", "session-required-rs256"])
async def test_logout_token_is_signed_by_the_jwks_and_names_the_session(suite, user, session_required, id_token_alg):
    receiver = await suite.receiver()
    client = await suite.client(receiver, session_required=session_required, id_token_alg=id_token_alg)
    async with suite.token_app() as token, browser(suite) as session:
        signed_in = await sign_in(suite, session, client, user, token.url)
        assert (await rp_logout(signed_in, client))[0] == 200
        await asyncio.wait_for(receiver.received.wait(), 10)
        [audit] = await suite.audited(client.client_id)
        delivered = await delivered_count(suite, token.url, "delivered")
        [(content_type, form)] = receiver.posts
        header, claims = await asyncio.to_thread(verified, form["logout_token"], token.url + "/jwks",
                                                 client.client_id, suite.settings.issuer)

    assert content_type == "application/x-www-form-urlencoded" and list(form) == ["logout_token"]
    assert header["typ"] == "logout+jwt"
    assert header["alg"] == (id_token_alg or suite.settings.id_token_signing_alg)
    assert claims["events"] == {EVENT: {}}
    assert claims["sid"] == signed_in.id_claims["sid"] and claims["sub"] == str(user.id)
    assert claims["aud"] == client.client_id and "nonce" not in claims
    assert 0 < claims["exp"] - claims["iat"] <= 120 and abs(claims["iat"] - time.time()) < 30
    assert len(claims["jti"]) >= 16
    assert audit == {"user_id": str(user.id), "outcome": "delivered", "attempts": 1, "status": 200,
                     "reason": "logout", "with_sid": True}
    assert delivered == 1


async def test_receiver_down_then_up_gets_it_after_a_retry(suite, user):
    receiver = await suite.receiver(up=False)
    client = await suite.client(receiver)
    async with suite.token_app() as token, browser(suite) as session:
        signed_in = await sign_in(suite, session, client, user, token.url)
        await rp_logout(signed_in, client)
        await asyncio.sleep(0.5)  # the first tries are refused (connection refused)
        assert receiver.tokens == []
        await receiver.start()
        await asyncio.wait_for(receiver.received.wait(), 10)
        [audit] = await suite.audited(client.client_id)
    assert audit["outcome"] == "delivered" and audit["attempts"] >= 2
    assert len(receiver.tokens) == 1


@pytest.mark.parametrize("answers, outcome, posts", [
    ([400], "failed", 1),  # the client refused this token: another copy would be refused too
    ([401], "failed", 1),
    ([503, 500, 200], "delivered", 3),
    ([429, 200], "delivered", 2),
], ids=["400-final", "401-final", "5xx-retried", "429-retried"])
async def test_which_answers_are_retried(suite, user, answers, outcome, posts):
    receiver = await suite.receiver()
    receiver.answers = list(answers)
    client = await suite.client(receiver)
    async with suite.token_app() as token, browser(suite) as session:
        await rp_logout(await sign_in(suite, session, client, user, token.url), client)
        [audit] = await suite.audited(client.client_id)
        await asyncio.sleep(0.5)  # a retry, if one were wrongly planned, would have come by now
        counted = await delivered_count(suite, token.url, outcome)
    assert (audit["outcome"], audit["attempts"], len(receiver.posts)) == (outcome, posts, posts)
    assert counted == 1
    first, *rest = receiver.tokens
    assert all(jwt.decode(t, options={"verify_signature": False})["jti"] != jwt.decode(
        first, options={"verify_signature": False})["jti"] for t in rest)  # each try is a fresh token


async def test_a_hanging_receiver_never_slows_the_users_logout(suite, user):
    receiver = await suite.receiver()
    receiver.hang = True
    client = await suite.client(receiver)
    async with suite.token_app(backchannel_logout_attempts=1) as token, browser(suite) as session:
        signed_in = await sign_in(suite, session, client, user, token.url)
        status, waited = await rp_logout(signed_in, client)
        assert status == 200 and waited < 1.0  # the POST takes up to 2 s; the user never waits for it
        [audit] = await suite.audited(client.client_id)
        timeouts = await delivered_count(suite, token.url, "timeout")
    assert (audit["outcome"], audit["attempts"], audit["status"]) == ("timeout", 1, None)
    assert timeouts == 1 and len(receiver.posts) == 1


async def test_a_logout_while_no_token_service_runs_is_delivered_when_one_starts(suite, user):
    receiver = await suite.receiver()
    client = await suite.client(receiver)
    async with browser(suite) as session:
        await sign_in(suite, session, client, user, token_url=None)
        assert await user_logout(session) < 1.0
    queue = LogoutQueue(suite.backends.redis, suite.settings.redis_prefix)
    assert await suite.backends.redis.xlen(queue.key) == 1  # waiting for a token service
    async with suite.token_app():
        await asyncio.wait_for(receiver.received.wait(), 10)
        [audit] = await suite.audited(client.client_id)
        # Acknowledged (and removed) only after the outcome is audited: wait for that last step.
        async with asyncio.timeout(5):
            while await suite.backends.redis.xlen(queue.key) or await queue.pending():
                await asyncio.sleep(0.05)
    assert audit["outcome"] == "delivered" and audit["reason"] == "logout"
    claims = jwt.decode(receiver.tokens[0], options={"verify_signature": False})
    assert claims["sub"] == str(user.id) and claims["sid"]


async def test_admin_disable_tells_every_client_of_every_session(suite, user):
    receiver, other_receiver = await suite.receiver(), await suite.receiver()
    client, other = await suite.client(receiver), await suite.client(other_receiver)
    async with suite.token_app() as token, browser(suite) as first, browser(suite) as second:
        one = await sign_in(suite, first, client, user, token.url)
        two = await sign_in(suite, second, client, user, token.url)
        await sign_in(suite, second, other, user, token.url)

        await users.set_disabled(suite.backends, user.username, True)

        audits = await suite.audited(client.client_id, count=2)
        [other_audit] = await suite.audited(other.client_id)
    sids = sorted(jwt.decode(t, options={"verify_signature": False})["sid"] for t in receiver.tokens)
    assert sids == sorted([one.id_claims["sid"], two.id_claims["sid"]]) and sids[0] != sids[1]
    assert {a["reason"] for a in audits + [other_audit]} == {"user_disabled"}
    assert [jwt.decode(t, options={"verify_signature": False})["sid"] for t in other_receiver.tokens] == [
        two.id_claims["sid"]]


async def test_consent_revoked_tells_only_that_client(suite, user):
    receiver, other_receiver = await suite.receiver(), await suite.receiver()
    client, other = await suite.client(receiver), await suite.client(other_receiver)
    async with suite.token_app() as token, browser(suite) as session:
        signed_in = await sign_in(suite, session, client, user, token.url)
        await sign_in(suite, session, other, user, token.url)

        await consents.revoke(suite.backends, user.username, client.client_id)

        [audit] = await suite.audited(client.client_id)
        await asyncio.sleep(0.5)
    assert audit["reason"] == "consent_revoked" and other_receiver.posts == []
    claims = jwt.decode(receiver.tokens[0], options={"verify_signature": False})
    assert (claims["sub"], claims["sid"]) == (str(user.id), signed_in.id_claims["sid"])


async def test_consent_revoked_without_a_live_session_sends_sub_alone(suite, user):
    receiver = await suite.receiver()
    client = await suite.client(receiver)
    async with suite.token_app() as token, browser(suite) as session:
        await sign_in(suite, session, client, user, token.url)
        await user_logout(session)
        await suite.audited(client.client_id)  # the logout's own token
        await consents.revoke(suite.backends, user.username, client.client_id)
        audits = await suite.audited(client.client_id, count=2)
    claims = jwt.decode(receiver.tokens[1], options={"verify_signature": False})
    assert claims["sub"] == str(user.id) and "sid" not in claims
    assert audits[1]["with_sid"] is False


async def refresh(suite: Suite, token_url: str, client: RegisteredClient, refresh_token: str) -> tuple[int, Any]:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    async with suite.http.post(token_url + "/token", data=form,
                               headers=basic(client)) as response:
        return response.status, await response.json()


async def session_refresh_token(suite: Suite, client: RegisteredClient, user: User, sid: str) -> str:
    """A refresh token of the session whose grant lacks offline_access, stored as the token service
    stores one. (Latchkey itself issues refresh tokens only for offline_access today.)"""
    raw, now = new_secret(32), datetime.now(UTC)
    register(raw)
    await PgRefreshTokens(suite.backends.db).issue(NewRefreshToken(
        token_hash=sha256_hex(raw), family_id=uuid.uuid4(), client_id=client.client_id, user_id=user.id,
        scope=("openid",), resource=None, auth_time=now, expires_at=now + timedelta(hours=1),
        family_expires_at=now + timedelta(days=1), sid=sid))
    return raw


async def test_session_refresh_tokens_end_with_the_session_offline_access_ones_do_not(suite, user):
    receiver = await suite.receiver()
    client = await suite.client(receiver)
    async with suite.token_app() as token, browser(suite) as session:
        signed_in = await sign_in(suite, session, client, user, token.url)
        sid = signed_in.id_claims["sid"]
        # Before the logout both work; the session-bound one is rotated (and so has a live access token).
        status, bound = await refresh(suite, token.url, client, await session_refresh_token(suite, client, user, sid))
        assert status == 200
        register(bound["refresh_token"])
        access_jti = jwt.decode(bound["access_token"], options={"verify_signature": False})["jti"]

        await rp_logout(signed_in, client)

        status, body = await refresh(suite, token.url, client, bound["refresh_token"])
        assert (status, body["error"]) == (400, "invalid_grant")
        assert await RedisDenylist(suite.backends.redis, suite.settings.redis_prefix).contains(access_jti)
        status, offline = await refresh(suite, token.url, client, signed_in.tokens["refresh_token"])
        assert status == 200 and "offline_access" in offline["scope"].split()
        register(offline["refresh_token"])


async def test_ending_a_session_on_the_account_page_tells_its_clients(suite, user):
    receiver = await suite.receiver()
    client = await suite.client(receiver)
    async with suite.token_app() as token, browser(suite) as elsewhere, browser(suite) as here:
        other = await sign_in(suite, elsewhere, client, user, token.url)
        async with here.get("/account") as login_page:  # no session: the login comes back to /account
            csrf = re.search(r'name="csrf" value="([^"]+)"', await login_page.text())
            login_url = str(login_page.url)
        assert csrf is not None
        async with here.post(login_url, data={"csrf": csrf.group(1), "username": user.username,
                                              "password": PASSWORD}) as account:
            page = await account.text()
        elsewhere_cookie = next(c.value for c in elsewhere.cookie_jar if c.key == "latchkey_session")
        form_csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert form_csrf is not None
        async with here.post("/account/sessions/end", data={"csrf": form_csrf.group(1),
                                                            "session": sha256_hex(elsewhere_cookie)}) as ended:
            assert ended.status == 200
        [audit] = await suite.audited(client.client_id)
    assert audit["reason"] == "account" and audit["outcome"] == "delivered"
    claims = jwt.decode(receiver.tokens[0], options={"verify_signature": False})
    assert claims["sid"] == other.id_claims["sid"]


async def account_form(session: aiohttp.ClientSession) -> str:
    """This browser's account page (signed in already): the one-time token its forms carry."""
    async with session.get("/account", allow_redirects=False) as page:
        assert page.status == 200, page.headers.get("Location")
        found = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert found is not None
    return found.group(1)


def sids_told(receiver: Receiver) -> list[str]:
    return sorted(jwt.decode(t, options={"verify_signature": False}).get("sid", "") for t in receiver.tokens)


async def test_revoking_an_application_on_the_account_page_tells_only_that_client(suite, user):
    """Both sessions the client got tokens in are named; the other application hears nothing."""
    receiver, other_receiver = await suite.receiver(), await suite.receiver()
    client, other = await suite.client(receiver, session_required=True), await suite.client(other_receiver)
    async with suite.token_app() as token, browser(suite) as here, browser(suite) as elsewhere:
        one = await sign_in(suite, here, client, user, token.url)
        await sign_in(suite, here, other, user, token.url)
        two = await sign_in(suite, elsewhere, client, user, token.url)

        async with here.post("/account/applications/revoke", data={"csrf": await account_form(here),
                                                                   "client_id": client.client_id}) as revoked:
            assert revoked.status == 200 and str(revoked.url).endswith("/account?done=revoked")

        audits = await suite.audited(client.client_id, count=2)
        await asyncio.sleep(0.5)  # a logout wrongly sent to the other client would have come by now
    assert sids_told(receiver) == sorted([one.id_claims["sid"], two.id_claims["sid"]])
    assert [(a["reason"], a["outcome"], a["with_sid"]) for a in audits] == [("consent_revoked", "delivered", True)] * 2
    assert all(jwt.decode(t, options={"verify_signature": False})["sub"] == str(user.id) for t in receiver.tokens)
    assert other_receiver.posts == []


async def test_signing_out_everywhere_on_the_account_page_tells_every_session_s_clients(suite, user):
    receiver, other_receiver = await suite.receiver(), await suite.receiver()
    client, other = await suite.client(receiver), await suite.client(other_receiver)
    async with suite.token_app() as token, browser(suite) as here, browser(suite) as elsewhere:
        one = await sign_in(suite, here, client, user, token.url)
        two = await sign_in(suite, elsewhere, client, user, token.url)
        await sign_in(suite, elsewhere, other, user, token.url)

        async with here.post("/account/sessions/end-all", data={"csrf": await account_form(here)}) as ended:
            assert ended.status == 200 and await ended.text()  # this browser too: the login page

        audits = await suite.audited(client.client_id, count=2)
        [other_audit] = await suite.audited(other.client_id)
    assert sids_told(receiver) == sorted([one.id_claims["sid"], two.id_claims["sid"]])
    assert sids_told(other_receiver) == [two.id_claims["sid"]]
    assert {(a["reason"], a["outcome"]) for a in audits + [other_audit]} == {("account", "delivered")}


async def test_changing_the_password_tells_the_clients_of_the_other_sessions_only(suite, user):
    receiver = await suite.receiver()
    client = await suite.client(receiver)
    async with suite.token_app() as token, browser(suite) as here, browser(suite) as elsewhere:
        await sign_in(suite, here, client, user, token.url)
        other = await sign_in(suite, elsewhere, client, user, token.url)

        new_password = "a brand new passphrase"
        register(new_password)
        async with here.post("/account/password", data={"csrf": await account_form(here), "current_password": PASSWORD,
                                                        "new_password": new_password}) as changed:
            assert changed.status == 200 and str(changed.url).endswith("/account?done=password_changed")

        [audit] = await suite.audited(client.client_id)
        await asyncio.sleep(0.5)  # this browser's session stays: nothing more comes for it
    assert (audit["reason"], audit["outcome"]) == ("password_change", "delivered")
    assert sids_told(receiver) == [other.id_claims["sid"]]


async def test_not_you_on_the_consent_page_tells_the_clients_of_the_ended_session(suite, user):
    receiver, other_receiver = await suite.receiver(), await suite.receiver()
    client, other = await suite.client(receiver), await suite.client(other_receiver)
    async with suite.token_app() as token, browser(suite) as here:
        signed_in = await sign_in(suite, here, client, user, token.url)
        # Another application asks: its consent page offers "Not you?".
        params = authorization_params(client_id=other.client_id, redirect_uri=REDIRECT_URI, scope="openid",
                                      code_verifier=Pkce.new().verifier)
        async with here.get("/authorize", params=params) as consent:
            page = await consent.text()
        switch = re.search(r'<form method="post" action="([^"]+)" class="lead switch">\s*'
                           r'<input type="hidden" name="csrf" value="([^"]+)">', page)
        assert switch is not None, page[:500]
        async with here.post(switch.group(1).replace("&amp;", "&"), data={"csrf": switch.group(2)}) as switched:
            assert switched.status == 200 and 'name="password"' in await switched.text()

        [audit] = await suite.audited(client.client_id)
    assert (audit["reason"], audit["outcome"]) == ("switch_account", "delivered")
    assert sids_told(receiver) == [signed_in.id_claims["sid"]] and other_receiver.posts == []


async def test_signing_in_again_as_the_same_user_keeps_the_session_and_tells_nobody(suite, user):
    """prompt=login re-authenticates: the session goes on under its sid (its relying parties stay
    signed in, and a later sign-out still names every one of them)."""
    receiver, other_receiver = await suite.receiver(), await suite.receiver()
    client, other = await suite.client(receiver), await suite.client(other_receiver)
    async with suite.token_app() as token, browser(suite) as here:
        first = await sign_in(suite, here, client, user, token.url)
        await asyncio.sleep(1.1)  # a later auth_time
        again = await sign_in(suite, here, other, user, token.url, prompt="login")
        assert again.id_claims["sid"] == first.id_claims["sid"]
        assert again.id_claims["auth_time"] > first.id_claims["auth_time"]
        await asyncio.sleep(0.5)  # a logout wrongly sent would have come by now
        assert receiver.posts == [] and other_receiver.posts == []
        await user_logout(here)
        await suite.audited(client.client_id)
        await suite.audited(other.client_id)
    assert sids_told(receiver) == sids_told(other_receiver) == [first.id_claims["sid"]]


async def test_another_user_signing_in_in_the_same_browser_tells_the_clients_of_the_ended_session(
        suite, user, pool, settings):
    receiver = await suite.receiver()
    client = await suite.client(receiver)
    someone_else = await make_user(pool, settings, password=PASSWORD)
    async with suite.token_app() as token, browser(suite) as here:
        first = await sign_in(suite, here, client, user, token.url)
        second = await sign_in(suite, here, client, someone_else, token.url, prompt="login")
        [audit] = await suite.audited(client.client_id)
    assert second.id_claims["sid"] != first.id_claims["sid"]
    assert (audit["reason"], audit["outcome"]) == ("login", "delivered")
    assert sids_told(receiver) == [first.id_claims["sid"]]
    claims = jwt.decode(receiver.tokens[0], options={"verify_signature": False})
    assert claims["sub"] == str(user.id)


async def test_a_consent_form_left_open_across_a_sign_out_and_a_new_sign_in_issues_no_code(suite, user):
    """The code would name the ended session (its sid), which no sign-out would ever announce."""
    client, other = await suite.client(await suite.receiver()), await suite.client(await suite.receiver())
    async with suite.token_app() as token, browser(suite) as here:
        params = authorization_params(client_id=client.client_id, redirect_uri=REDIRECT_URI, scope="openid",
                                      code_verifier=Pkce.new().verifier)
        login = location_of(await here.get("/authorize", params=params, allow_redirects=False))
        async with here.get(login) as page:
            html = await page.text()
        consent = location_of(await here.post(login, data={"csrf": csrf_token(html), "username": user.username,
                                                            "password": PASSWORD}, allow_redirects=False))
        async with here.get(consent) as page:
            consent_csrf = csrf_token(await page.text())
        await user_logout(here)
        await sign_in(suite, here, other, user, token.url)  # signed in again: a new session
        async with here.post(consent, data={"csrf": consent_csrf, "decision": "allow"},
                             allow_redirects=False) as answered:
            assert answered.status == 400 and "Location" not in answered.headers
            assert "signed out or switched accounts" in await answered.text()


async def test_admin_delete_tells_the_clients_of_the_users_sessions(suite, user):
    receiver = await suite.receiver()
    client = await suite.client(receiver)
    async with suite.token_app() as token, browser(suite) as session:
        signed_in = await sign_in(suite, session, client, user, token.url)

        await users.delete(suite.backends, user.username)

        [audit] = await suite.audited(client.client_id)
    assert (audit["reason"], audit["outcome"]) == ("user_deleted", "delivered")
    claims = jwt.decode(receiver.tokens[0], options={"verify_signature": False})
    assert (claims["sub"], claims["sid"]) == (str(user.id), signed_in.id_claims["sid"])


@pytest.mark.parametrize("operation, reason", [("user disable", "user_disabled"), ("user delete", "user_deleted"),
                                               ("consent revoke", "consent_revoked")])
async def test_an_operation_that_could_not_reach_redis_is_announced_once_the_token_service_can(
        suite, user, operation, reason):
    """The operation commits and fails on Redis (the admin's host cannot reach it). Its cut-off
    record carries it out: the token service writes it, ends the sessions it ends, and the
    clients are told, with nothing to run again (a deleted user cannot be deleted twice)."""
    receiver = await suite.receiver()
    client = await suite.client(receiver)
    async with suite.token_app(revocation_retry=1) as token, browser(suite) as session:
        signed_in = await sign_in(suite, session, client, user, token.url)
        async with redis_unreachable(suite) as cut_off_from:
            with pytest.raises(STORE_ERRORS):
                if operation == "user disable":
                    await users.set_disabled(cut_off_from, user.username, True)
                elif operation == "user delete":
                    await users.delete(cut_off_from, user.username)
                else:
                    await consents.revoke(cut_off_from, user.username, client.client_id)

        await suite.audited(client.client_id)
        await carried_out(suite, user)
        await asyncio.sleep(1.5)  # one more pass of the task: it tells nobody again
        audits = await suite.audited(client.client_id)
        sessions = await suite.backends.sessions.of_user(str(user.id))
    assert [(a["reason"], a["outcome"]) for a in audits] == [(reason, "delivered")]
    assert len(receiver.tokens) == 1
    claims = jwt.decode(receiver.tokens[0], options={"verify_signature": False})
    assert (claims["sub"], claims["sid"]) == (str(user.id), signed_in.id_claims["sid"])
    # A user's cut-off ends their sessions; a consent's tells the client and ends none.
    assert [s.sid for s in sessions] == ([signed_in.id_claims["sid"]] if operation == "consent revoke" else [])


@contextlib.asynccontextmanager
async def redis_unreachable(suite: Suite) -> AsyncIterator[Backends]:
    """The suite's backends as seen from a host that cannot reach Redis (connections refused)."""
    unreachable = socket.socket()
    unreachable.bind(("127.0.0.1", 0))  # bound, never listening
    dead = Redis.from_url(f"redis://127.0.0.1:{unreachable.getsockname()[1]}/0")
    try:
        yield dataclasses.replace(suite.backends, redis=dead)
    finally:
        await dead.aclose()
        unreachable.close()


async def carried_out(suite: Suite, user: User) -> None:
    """Once the token service has finished the user's recorded cut-offs (their rows are gone)."""
    async with asyncio.timeout(5):
        while await suite.backends.db.fetchval("SELECT count(*) FROM pending_cutoffs WHERE subject = $1",
                                               str(user.id)):
            await asyncio.sleep(0.05)


async def test_an_enable_before_redis_is_back_keeps_what_came_after_it(suite, user):
    """A disable whose Redis write failed, then an enable, then a new sign-in: when the token
    service carries the disable out, it refuses only what was issued before the enable and ends
    only the session begun before it."""
    receiver = await suite.receiver()
    client = await suite.client(receiver)
    async with browser(suite) as before, browser(suite) as after:
        # No token service runs yet: its task cannot carry the disable out before the enable.
        await sign_in(suite, before, client, user, token_url=None)
        [earlier] = await suite.backends.sessions.of_user(str(user.id))
        async with redis_unreachable(suite) as cut_off_from:
            with pytest.raises(STORE_ERRORS):
                await users.set_disabled(cut_off_from, user.username, True)
        enabling_ms = time.time_ns() // 1_000_000
        await users.set_disabled(suite.backends, user.username, False)
        enabled_ms = time.time_ns() // 1_000_000
        await asyncio.sleep(1.1 - (time.time() % 1))  # a session's auth_time has whole seconds
        await sign_in(suite, after, client, user, token_url=None)

        async with suite.token_app(revocation_retry=1):
            [audit] = await suite.audited(client.client_id)
            await carried_out(suite, user)
        marker = await suite.backends.redis.get(revoked_before_key(suite.settings.redis_prefix, subject=str(user.id)))
        sessions = await suite.backends.sessions.of_user(str(user.id))
    assert audit["reason"] == "user_disabled"
    assert [jwt.decode(t, options={"verify_signature": False})["sid"] for t in receiver.tokens] == [earlier.sid]
    assert len(sessions) == 1 and sessions[0].sid != earlier.sid  # the sign-in after the enable lives on
    assert enabling_ms <= int(marker) <= enabled_ms  # the enable's moment, not the disable's margin (5 s on)
