"""A real browser signs in, consents and lands on the client's redirect URI with a code.

Headless Chromium from Debian's package, driven by Playwright's async API (its sync API cannot
run inside the test event loop). The authorize app and a tiny "client" that records its
callback both listen on spare localhost ports. The browser also proves what unit tests cannot:
the CSP lets the stylesheet load and lets the forms' redirects reach the client.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import socket
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web

from services.authorize.app import create_app
from shared.stores.redis_codes import RedisCodeStore
from tests.browser.chromium import NEEDS_CHROMIUM
from tests.support.factories import make_client, make_user
from tests.support.flows import Pkce

PASSWORD = "correct horse battery"

pytestmark = [
    pytest.mark.browser,
    NEEDS_CHROMIUM,
]


def listening_socket() -> socket.socket:
    """Bound before the app is built, so the issuer can name the port without a race."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


async def serve(app: web.Application, sock: socket.socket) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner


@pytest.fixture
async def callbacks() -> AsyncIterator[tuple[str, asyncio.Queue[dict[str, str]]]]:
    """The client's redirect URI: records each callback's query."""
    received: asyncio.Queue[dict[str, str]] = asyncio.Queue()

    async def callback(request: web.Request) -> web.Response:
        received.put_nowait(dict(request.query))
        return web.Response(text='<!doctype html><link rel="icon" href="data:,"><title>Client</title><p>Signed in.</p>',
                            content_type="text/html")

    app = web.Application()
    app.router.add_get("/callback", callback)
    sock = listening_socket()
    runner = await serve(app, sock)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/callback", received
    await runner.cleanup()


@pytest.fixture
async def authorize_server(settings, redis) -> AsyncIterator[tuple[str, str]]:
    """(base URL, Redis prefix) of a running authorize service whose issuer is its own URL."""
    sock = listening_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    prefix = f"{settings.redis_prefix}browser-{secrets.token_hex(4)}:"
    runner = await serve(create_app(dataclasses.replace(settings, issuer=base, redis_prefix=prefix)), sock)
    yield base, prefix
    await runner.cleanup()


async def test_sign_in_consent_and_land_on_the_client_with_a_code(browser, authorize_server, callbacks, pool,
                                                                 settings, redis):
    base, prefix = authorize_server
    redirect_uri, received = callbacks
    client = await make_client(pool, redirect_uris=(redirect_uri,), public=True, name="Browser Test App")
    user = await make_user(pool, settings, password=PASSWORD)
    pkce = Pkce.new()
    query = urlencode({"response_type": "code", "client_id": client.client_id, "redirect_uri": redirect_uri,
                       "scope": "openid profile email", "state": "browser-state", "nonce": "browser-nonce",
                       "code_challenge": pkce.challenge, "code_challenge_method": "S256"})

    page = await browser.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))

    await page.goto(f"{base}/authorize?{query}")
    assert await page.title() == "Sign in · Latchkey"
    assert "Browser Test App" in await page.inner_text("main")
    await page.fill('input[name="username"]', user.username)
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('button[type="submit"]')

    await page.wait_for_url(f"{base}/consent?tx=*")
    assert "See your email address" in await page.inner_text("main")
    stylesheet_applied = await page.evaluate(
        "getComputedStyle(document.querySelector('main')).borderRadius")
    assert stylesheet_applied == "12px"  # the CSS loaded under the CSP
    await page.click('button[name="decision"][value="allow"]')

    await page.wait_for_url(f"{redirect_uri}?*")
    callback = await asyncio.wait_for(received.get(), timeout=10)
    assert callback["state"] == "browser-state"
    assert callback["iss"] == base
    assert await RedisCodeStore(redis, prefix).ttl(callback["code"]) > 0
    assert problems == [], "\n".join(problems)  # no CSP violation, no blocked form redirect, no failed request


async def test_account_page_revokes_an_application_and_ends_another_session(browser, authorize_server, callbacks,
                                                                            pool, settings):
    """Sign in for a client, open /account, revoke the client, end the session of another browser."""
    from playwright.async_api import expect

    base, _ = authorize_server
    redirect_uri, received = callbacks
    client = await make_client(pool, redirect_uris=(redirect_uri,), public=True, name="Account Test App")
    user = await make_user(pool, settings, password=PASSWORD)
    pkce = Pkce.new()
    query = urlencode({"response_type": "code", "client_id": client.client_id, "redirect_uri": redirect_uri,
                       "scope": "openid email", "state": "account-state", "code_challenge": pkce.challenge,
                       "code_challenge_method": "S256"})
    laptop, phone = await browser.new_context(), await browser.new_context()  # two browsers, two sessions
    page = await laptop.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    await page.goto(f"{base}/authorize?{query}")
    await page.fill('input[name="username"]', user.username)
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('button[type="submit"]')
    await page.click('button[name="decision"][value="allow"]')
    await page.wait_for_url(f"{redirect_uri}?*")
    await asyncio.wait_for(received.get(), timeout=10)

    other = await phone.new_page()
    await other.goto(f"{base}/account")  # no session there: the login page, then back
    await other.fill('input[name="username"]', user.username)
    await other.fill('input[name="password"]', PASSWORD)
    await other.click('button[type="submit"]')
    await other.wait_for_url(f"{base}/account")

    await page.goto(f"{base}/account")
    assert await page.title() == "Your account · Latchkey"
    main = page.locator("main")
    await expect(main).to_contain_text("Account Test App")
    await expect(main).to_contain_text("See your email address")
    await expect(page.get_by_text("This browser", exact=True)).to_have_count(1)
    await page.get_by_role("button", name="Revoke access for Account Test App").click()
    await page.wait_for_url(f"{base}/account?done=revoked")
    await expect(page.get_by_role("status")).to_contain_text("access was removed")
    await expect(main).not_to_contain_text("Account Test App")
    assert await pool.fetchval("SELECT count(*) FROM consents WHERE user_id = $1", user.id) == 0

    await page.get_by_role("button", name="End the session signed in").click()
    await page.wait_for_url(f"{base}/account?done=session_ended")
    await expect(page.get_by_role("button", name="End the session signed in")).to_have_count(0)
    await other.goto(f"{base}/account")
    await expect(other).to_have_title("Sign in · Latchkey")  # the other browser is signed out
    assert problems == [], "\n".join(problems)
    await laptop.close()
    await phone.close()


async def sign_in_and_allow(page, authorize_url: str, username: str, redirect_uri: str,
                            received: asyncio.Queue[dict[str, str]]) -> None:
    """Signs in on the login page, allows on the consent page and waits for the client's callback."""
    await page.goto(authorize_url)
    await page.fill('input[name="username"]', username)
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('button[type="submit"]')
    await page.click('button[name="decision"][value="allow"]')
    await page.wait_for_url(f"{redirect_uri}?*")
    await asyncio.wait_for(received.get(), timeout=10)


async def signed_in(browser, base: str, pool, settings, client, redirect_uri: str,
                    received: asyncio.Queue[dict[str, str]]) -> tuple[dict[str, str], Any]:
    """A new user and a new page signed in to ``client`` with consent given; with the code
    request's query, for the test to send again."""
    user = await make_user(pool, settings, password=PASSWORD)
    query = {"response_type": "code", "client_id": client.client_id, "redirect_uri": redirect_uri,
             "scope": "openid", "state": "st", "code_challenge": Pkce.new().challenge,
             "code_challenge_method": "S256"}
    page = await browser.new_page()
    await sign_in_and_allow(page, f"{base}/authorize?{urlencode(query)}", user.username, redirect_uri, received)
    return query, page


@pytest.fixture
async def relying_party() -> AsyncIterator[tuple[str, asyncio.Queue[dict[str, str]]]]:
    """Another site (localhost, while Latchkey is 127.0.0.1): its sign-out page posts the
    RP-Initiated Logout request to Latchkey as a form (§2 allows POST); /signed-out records where
    the browser came back."""
    returned: asyncio.Queue[dict[str, str]] = asyncio.Queue()

    async def start(request: web.Request) -> web.Response:
        fields = "".join(f'<input type="hidden" name="{name}" value="{value}">' for name, value in request.query.items()
                         if name != "action")
        return web.Response(text=f'<!doctype html><link rel="icon" href="data:,"><title>RP</title>'
                                 f'<form method="post" action="{request.query["action"]}">{fields}'
                                 f'<button type="submit">Sign out</button></form>', content_type="text/html")

    async def signed_out(request: web.Request) -> web.Response:
        returned.put_nowait(dict(request.query))
        return web.Response(text='<!doctype html><link rel="icon" href="data:,"><title>RP</title><p>Bye.</p>',
                            content_type="text/html")

    app = web.Application()
    app.router.add_get("/start", start)
    app.router.add_get("/signed-out", signed_out)
    sock = listening_socket()
    runner = await serve(app, sock)
    yield f"http://localhost:{sock.getsockname()[1]}", returned
    await runner.cleanup()


async def test_a_logout_form_posted_from_another_site_still_finds_the_session(browser, authorize_server, callbacks,
                                                                             relying_party, pool, settings):
    """The session cookie is SameSite=Lax, so a cross-site POST to /logout arrives without it: the
    sign-out must still reach this browser's session (asked first: no id_token_hint), not report
    "signed out" while the user stays signed in."""
    base, _ = authorize_server
    redirect_uri, received = callbacks
    rp_origin, returned = relying_party
    after_logout = f"{rp_origin}/signed-out"
    client = await make_client(pool, redirect_uris=(redirect_uri,), public=True, name="Posting App")
    await pool.execute("UPDATE clients SET post_logout_redirect_uris = $2 WHERE client_id = $1",
                       client.client_id, [after_logout])
    query, page = await signed_in(browser, base, pool, settings, client, redirect_uri, received)

    await page.goto(f"{rp_origin}/start?" + urlencode({"action": f"{base}/logout", "client_id": client.client_id,
                                                       "post_logout_redirect_uri": after_logout, "state": "rp-7"}))
    await page.click('button[type="submit"]')
    await page.wait_for_url(f"{base}/logout*")
    assert await page.title() == "Sign out · Latchkey"  # the session was found, and the user is asked
    await page.click('button[type="submit"]')
    await page.wait_for_url(f"{after_logout}?*")
    assert (await asyncio.wait_for(returned.get(), timeout=10)) == {"state": "rp-7"}

    await page.goto(f"{base}/authorize?{urlencode(dict(query, prompt='none'))}")
    await page.wait_for_url(f"{redirect_uri}?*")
    assert (await asyncio.wait_for(received.get(), timeout=10))["error"] == "login_required"
    await page.close()


async def test_an_authorization_request_posted_from_another_site_finds_the_session(browser, authorize_server,
                                                                                   callbacks, relying_party, pool,
                                                                                   settings):
    """OIDC Core §3.1.2.1 lets a client POST the authorization request. From the client's site
    the browser keeps the SameSite=Lax session cookie off that POST: a signed-in user must still
    get a code for prompt=none, not login_required."""
    base, _ = authorize_server
    redirect_uri, received = callbacks
    rp_origin, _ = relying_party
    client = await make_client(pool, redirect_uris=(redirect_uri,), public=True, name="Posting App")
    query, page = await signed_in(browser, base, pool, settings, client, redirect_uri, received)

    posted = dict(query, prompt="none", state="posted-1")
    await page.goto(f"{rp_origin}/start?" + urlencode({"action": f"{base}/authorize", **posted}))
    await page.click('button[type="submit"]')
    await page.wait_for_url(f"{redirect_uri}?*")
    answer = await asyncio.wait_for(received.get(), timeout=10)
    assert answer["state"] == "posted-1"
    assert "code" in answer, answer  # not error=login_required
    await page.close()
