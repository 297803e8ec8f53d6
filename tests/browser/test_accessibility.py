"""Every Latchkey page in a real Chromium: axe-core finds no violation, Tab follows the visual
order and the focus ring is visible at 3:1, in forced-colors mode too (tests/browser/accessibility.py).

The pages: login (also with its error), the throttle page, consent, the sign-out confirmation,
signed out, the error pages (a bad redirect_uri with its back link and developer details, an
unknown client, an expired sign-in, a 404) and /account.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
from aiohttp import web

from services.authorize.app import create_app
from tests.browser.accessibility import _follows, _ring_problems, assert_accessible, page_problems, require_axe
from tests.browser.chromium import NEEDS_CHROMIUM
from tests.integration.resource.serving import RunningApp, spare_socket, url_of
from tests.support.factories import make_client, make_user
from tests.support.flows import Pkce

PASSWORD = "correct horse battery"
HOME = "https://photos.example/"

pytestmark = [
    pytest.mark.browser,
    NEEDS_CHROMIUM,
]


@pytest.fixture
async def server(settings) -> AsyncIterator[str]:
    """A running authorize service (dev mode, as the tests' settings are) throttling at one failure."""
    sock = spare_socket()
    base = url_of(sock)
    prefix = f"{settings.redis_prefix}a11y-{secrets.token_hex(4)}:"
    app = create_app(dataclasses.replace(settings, issuer=base, redis_prefix=prefix, login_max_failures_user=1))
    async with RunningApp(app, sock):
        yield base


@pytest.fixture
async def callback() -> AsyncIterator[str]:
    """The client's redirect URI: a page that says it was reached."""
    async def reached(request: web.Request) -> web.Response:
        return web.Response(text="<!doctype html><title>Client</title><p>Back at the client.", content_type="text/html")

    app = web.Application()
    app.router.add_get("/callback", reached)
    async with RunningApp(app) as running:
        yield running.url + "/callback"


def authorize_query(client_id: str, redirect_uri: str) -> str:
    return urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                      "scope": "openid profile email", "state": "a11y", "code_challenge": Pkce.new().challenge,
                      "code_challenge_method": "S256"})


async def test_every_page_has_no_axe_violation_and_keyboard_focus_that_works(browser, server, callback, pool,
                                                                              settings):
    require_axe()
    client = await make_client(pool, redirect_uris=(callback,), public=True, name="Photo Printer", client_uri=HOME)
    user = await make_user(pool, settings, password=PASSWORD)
    context = await browser.new_context()
    page = await context.new_page()
    problems: list[str] = []

    # Pages reached by a form post are checked where they stand.
    await page.goto(f"{server}/authorize?{authorize_query(client.client_id, callback)}")
    assert await page.title() == "Sign in · Latchkey"
    problems += await page_problems(page, "login")
    await page.fill('input[name="username"]', "ghost")
    await page.fill('input[name="password"]', "wrong")
    await page.click('button[type="submit"]')
    assert await page.locator(".alert").count() == 1
    problems += await page_problems(page, "login with an error")
    await page.fill('input[name="password"]', "wrong again")
    await page.click('button[type="submit"]')
    assert await page.title() == "Too many attempts · Latchkey"
    problems += await page_problems(page, "throttle page")

    await page.goto(f"{server}/authorize?{authorize_query(client.client_id, callback)}")
    await page.fill('input[name="username"]', user.username)
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('button[type="submit"]')
    await page.wait_for_url(f"{server}/consent?tx=*")
    problems += await page_problems(page, "consent")

    await page.goto(f"{server}/logout")
    assert await page.title() == "Sign out · Latchkey"
    problems += await page_problems(page, "sign-out confirmation")
    await page.goto(f"{server}/logout")
    await page.click('button[type="submit"]')
    assert await page.title() == "Signed out · Latchkey"
    problems += await page_problems(page, "signed out")
    await page.goto(f"{server}/account")
    assert await page.title() == "Sign in · Latchkey"
    problems += await page_problems(page, "sign in to the account page")
    await page.close()
    assert problems == [], "\n".join(problems)

    error_pages = [
        f"{server}/authorize?{authorize_query(client.client_id, 'https://elsewhere.example/cb')}",  # back link, dev
        f"{server}/authorize?client_id=no-such-client",
        f"{server}/login?tx=expired",
        f"{server}/no/such/page",
        f"{server}/logout?client_id={client.client_id}",  # signed out, with a way back to the client's home
    ]
    await assert_accessible(context, error_pages)
    await context.close()

    signed_in = await browser.new_context()  # the account page, signed in by a sign-in to an application
    page = await signed_in.new_page()
    await page.goto(f"{server}/authorize?{authorize_query(client.client_id, callback)}")
    await page.fill('input[name="username"]', user.username)
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('button[type="submit"]')
    await page.wait_for_url(f"{server}/consent?tx=*")
    # Allowed, so the page lists an application; the client's callback itself is not served.
    await page.click('button[name="decision"][value="allow"]')
    await page.wait_for_url(f"{callback}?*")
    await page.goto(f"{server}/account")
    assert "Photo Printer" in await page.inner_text("main")
    await page.close()
    await assert_accessible(signed_in, [f"{server}/account"])
    await signed_in.close()


async def test_the_checks_catch_a_missing_focus_ring_and_a_reversed_tab_order(browser):
    """The helper itself: a page with an invisible focus and buttons shown in reverse is refused."""
    require_axe()
    page = await browser.new_page()
    await page.set_content("""<!doctype html><html lang="en"><title>Bad</title><body><main>
      <h1>Bad</h1><div style="display:flex;flex-direction:row-reverse">
      <button style="outline:none">First</button><button style="outline:none">Second</button></div></main>""")
    problems = await page_problems(page, "bad")
    assert any("goes against the visual order" in p for p in problems), problems
    assert any("no visible outline" in p for p in problems), problems
    await page.close()


def test_reading_order_and_ring_contrast_rules():
    a = {"top": 0, "bottom": 40, "left": 0, "right": 100, "id": "a"}
    assert _follows(a, {"top": 0, "bottom": 40, "left": 110, "right": 200})  # same line, to the right
    assert _follows(a, {"top": 50, "bottom": 90, "left": 0, "right": 100})  # below
    assert not _follows(a, {"top": 0, "bottom": 40, "left": -120, "right": -20})  # same line, to the left
    assert not _follows(a, {"top": -50, "bottom": -10, "left": 0, "right": 100})  # above
    ring = {"outlineStyle": "solid", "outlineWidth": 3, "behind": "rgb(255, 255, 255)"}
    assert _ring_problems({**ring, "outlineColor": "rgb(33, 72, 196)"}) == []  # --focus-ring on the card
    assert _ring_problems({**ring, "outlineColor": "rgba(47, 91, 234, 0.35)"})  # the old translucent ring
    assert _ring_problems({**ring, "outlineStyle": "none", "outlineColor": "rgb(0, 0, 0)"})
