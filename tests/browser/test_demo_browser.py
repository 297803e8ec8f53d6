"""The demo app in a real headless Chromium, against all three services served in-process on
spare ports over the run's PostgreSQL and Redis: open it, sign in, consent, see the claims and
the resource API's answers; then add a note, refresh and revoke, sign in again after revoking,
and sign out through Latchkey's end_session_endpoint back to the demo, signed out everywhere;
and the whole round trip through Latchkey's account page (issue 12's browser scenario).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib.util
import os
import re
import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from aiohttp import web
from aiohttp.typedefs import Handler

from shared.stores.pg_clients import PgClients
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.integration.resource.serving import RunningApp, spare_socket, url_of
from tests.support.factories import NOTES_API, make_client, make_user
from tests.support.flows import Pkce, authorization_params

SERVICES = ("services.authorize.app", "services.token.app", "services.resource.app")
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.browser


def _skip_reason() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    for module in SERVICES:
        if importlib.util.find_spec(module) is None:
            return f"{module} does not exist yet"
    return None


if (reason := _skip_reason()) is not None:
    pytest.skip(reason, allow_module_level=True)

from playwright.async_api import Page, async_playwright, expect  # noqa: E402

from examples.demo_client.app import create_app as create_demo  # noqa: E402
from examples.demo_client.config import DemoConfig  # noqa: E402
from services.authorize.app import create_app as create_authorize  # noqa: E402
from services.resource.app import create_app as create_resource  # noqa: E402
from services.token.app import create_app as create_token  # noqa: E402


@dataclasses.dataclass
class Suite:
    demo_url: str
    username: str
    name: str
    issuer: str
    client_id: str


class HeldBackChannel:
    """Holds the logout tokens Latchkey posts to the demo until ``release``: a test sees what the
    demo does before one arrives (its next API call refused), then what it does after."""

    def __init__(self) -> None:
        self.arrived, self.released = asyncio.Event(), asyncio.Event()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/backchannel-logout":
            self.arrived.set()
            await self.released.wait()
        return await handler(request)


@contextlib.asynccontextmanager
async def running_suite(settings, pool, *, held: HeldBackChannel | None = None) -> AsyncIterator[Suite]:
    sockets = {name: spare_socket() for name in ("authorize", "token", "resource", "demo")}
    urls = {name: url_of(sock) for name, sock in sockets.items()}
    # The resource service's identifier is the notes API's, as `latchkey demo seed` makes it.
    suite_settings = dataclasses.replace(settings, issuer=urls["authorize"], token_url=urls["token"],
                                         resource_url=urls["resource"], audience=NOTES_API, jwks_url="")
    registered = await make_client(pool, redirect_uris=(urls["demo"] + "/callback",), name="Latchkey Demo App")
    # As `latchkey demo seed` registers it: where RP-Initiated Logout returns, where logout tokens go.
    await PgClients(pool).replace(dataclasses.replace(
        registered.client, post_logout_redirect_uris=(urls["demo"] + "/signed-out",),
        backchannel_logout_uri=urls["demo"] + "/backchannel-logout", backchannel_logout_session_required=True))
    user = await make_user(pool, settings, password=PASSWORD, name="Ada Lovelace", email="ada@example.com")
    demo_config = DemoConfig(public_url=urls["demo"], issuer=urls["authorize"], resource_url=urls["resource"],
                             client_id=registered.client_id, client_secret=registered.secret or "")
    async with contextlib.AsyncExitStack() as stack:
        # The token service first: the resource service fetches its JWKS when it starts.
        await stack.enter_async_context(RunningApp(create_token(suite_settings), sockets["token"]))
        await stack.enter_async_context(RunningApp(create_authorize(suite_settings), sockets["authorize"]))
        await stack.enter_async_context(RunningApp(create_resource(suite_settings), sockets["resource"]))
        demo = create_demo(demo_config)
        if held is not None:
            demo.middlewares.insert(0, held.middleware)
            stack.callback(held.released.set)  # a test that fails midway still lets the demo stop
        await stack.enter_async_context(RunningApp(demo, sockets["demo"]))
        yield Suite(urls["demo"], user.username, "Ada Lovelace", urls["authorize"], registered.client_id)


@pytest.fixture
async def browser_page() -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context()  # a context of its own: a test may open a second tab
            context.set_default_timeout(15_000)
            page = await context.new_page()
            yield page
        finally:
            await browser.close()


def watch_problems(page: Page) -> list[tuple[str, str]]:
    """(url, message) of console errors (CSP violations among them) and failed requests."""
    problems: list[tuple[str, str]] = []
    page.on("console", lambda m: problems.append((m.location.get("url", ""), m.text)) if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.append((r.url, f"failed: {r.failure}")))
    return problems


async def _sign_in(page: Page, suite: Suite) -> None:
    await page.goto(suite.demo_url)
    await page.get_by_role("link", name="Sign in with Latchkey").click()
    await page.locator("input[name=username]").fill(suite.username)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form[method=post] [type=submit]").first.click()
    await page.locator("button[name=decision][value=allow]").click()
    await page.wait_for_url(suite.demo_url + "/")


async def test_sign_in_consent_and_see_claims_and_api_answers(settings, pool, browser_page):
    page = browser_page
    problems = watch_problems(page)
    async with running_suite(settings, pool) as suite:
        await _sign_in(page, suite)
        await expect(page.get_by_role("heading", name=f"Hello, {suite.name}")).to_be_visible()
        id_claims = page.locator("section[aria-labelledby=id-heading] table")
        await expect(id_claims).to_contain_text("nonce")
        await expect(id_claims).to_contain_text("at_hash")
        access_claims = page.locator("section[aria-labelledby=access-heading]")
        await expect(access_claims).to_contain_text("at+jwt")
        await expect(access_claims).to_contain_text("notes:read")
        answers = page.locator("section[aria-labelledby=api-heading] article")
        userinfo, whoami, notes = (answers.filter(has_text=re.compile(rf"GET http\S+{path} ")) for path in
                                   ("/userinfo", "/api/whoami", "/api/notes"))
        await expect(userinfo.locator(".status")).to_have_text("200")
        await expect(userinfo).to_contain_text(f'"preferred_username": "{suite.username}"')
        await expect(userinfo).to_contain_text('"email": "ada@example.com"')
        await expect(whoami.locator(".status")).to_have_text("200")
        await expect(whoami).to_contain_text('"scope": "email notes:read notes:write offline_access openid profile"')
        await expect(notes.locator(".status")).to_have_text("200")

        await page.get_by_label("New note").fill("written through the browser")
        await page.get_by_role("button", name="Save note with POST /api/notes").click()
        await expect(page.locator(".notes")).to_contain_text("written through the browser")

        await page.get_by_role("button", name="Refresh tokens").click()
        await expect(page.locator(".flash")).to_contain_text("Tokens refreshed")
        await expect(notes.locator(".status")).to_have_text("200")

        await page.get_by_role("button", name="Revoke tokens").click()
        await expect(page.locator(".flash")).to_contain_text("Tokens revoked")
        for answer in (userinfo, whoami, notes):
            await expect(answer.locator(".status")).to_have_text("401")
            await expect(answer).to_contain_text('error="invalid_token", error_description="token revoked"')

        # Not stuck: the page still names the user and offers to sign in again.
        await expect(page.get_by_role("heading", name=f"Hello, {suite.name}")).to_be_visible()
        await expect(page.get_by_role("link", name="Sign in again")).to_be_visible()
        await expect(page.get_by_role("button", name="Refresh tokens")).to_have_count(0)
    # The demo's pages load cleanly under their CSP: no inline script or style, nothing blocked.
    assert [p for p in problems if p[0].startswith(suite.demo_url)] == []


async def test_a_callback_with_a_forged_state_is_refused(settings, pool, browser_page):
    page = browser_page
    async with running_suite(settings, pool) as suite:
        await page.goto(suite.demo_url)
        await page.get_by_role("link", name="Sign in with Latchkey").click()
        await page.locator("input[name=username]").wait_for()
        response = await page.goto(suite.demo_url + "/callback?code=stolen&state=forged")
        assert response is not None and response.status == 400
        await expect(page.get_by_role("alert")).to_contain_text("state parameter does not match")


async def test_a_double_clicked_refresh_rotates_once_and_keeps_the_session(settings, pool, browser_page):
    """Two POST /refresh at once (a double click) must not present one refresh token twice: the
    token service would take that for reuse and revoke the whole family (RFC 9700 §4.14.2)."""
    page = browser_page
    async with running_suite(settings, pool) as suite:
        await _sign_in(page, suite)
        csrf = await page.locator("form[action='/refresh'] input[name=csrf]").get_attribute("value")
        answers = await asyncio.gather(*(page.request.post(suite.demo_url + "/refresh", form={"csrf": csrf})
                                         for _ in range(2)))
        assert [a.status for a in answers] == [200, 200], [await a.text() for a in answers]
        await page.reload()
        notes = page.locator("section[aria-labelledby=api-heading] article").filter(
            has_text=re.compile(r"GET http\S+/api/notes "))
        await expect(notes.locator(".status")).to_have_text("200")
        # The rotated refresh token still works: the family was not revoked as replayed.
        await page.get_by_role("button", name="Refresh tokens").click()
        await expect(page.locator(".flash")).to_contain_text("Tokens refreshed")
        await expect(notes.locator(".status")).to_have_text("200")


def _api_answers(page: Page):
    return page.locator("section[aria-labelledby=api-heading] article")


async def test_after_revoking_the_tokens_sign_in_again_gets_new_ones(settings, pool, browser_page):
    page = browser_page
    async with running_suite(settings, pool) as suite:
        await _sign_in(page, suite)
        await page.get_by_role("button", name="Revoke tokens").click()
        await expect(page.locator(".flash")).to_contain_text("Tokens revoked")
        await expect(_api_answers(page).locator(".status")).to_have_text(["401", "401", "401"])
        await expect(page.get_by_role("heading", name=f"Hello, {suite.name}")).to_be_visible()

        await page.get_by_role("link", name="Sign in again").click()
        # Still signed in at Latchkey, with the consent remembered: straight back, no password asked.
        await page.wait_for_url(suite.demo_url + "/")
        await expect(page.locator(".flash")).to_contain_text("Signed in")
        await expect(page.get_by_role("heading", name=f"Hello, {suite.name}")).to_be_visible()
        await expect(_api_answers(page).locator(".status")).to_have_text(["200", "200", "200"])
        await expect(page.get_by_role("link", name="Sign in again")).to_have_count(0)
        await page.get_by_role("button", name="Refresh tokens").click()
        await expect(page.locator(".flash")).to_contain_text("Tokens refreshed")


async def _prompt_none(page: Page, suite: Suite) -> dict[str, str]:
    """A silent authorization request in this browser (its cookies): what Latchkey answers."""
    params = authorization_params(client_id=suite.client_id, redirect_uri=suite.demo_url + "/callback",
                                  scope="openid", code_verifier=Pkce.new().verifier, prompt="none")
    response = await page.request.get(f"{suite.issuer}/authorize?{urlencode(params)}", max_redirects=0)
    assert response.status in (302, 303), await response.text()
    return dict(parse_qsl(urlsplit(response.headers["location"]).query))


async def test_signing_out_of_the_demo_signs_out_of_latchkey_and_comes_back(settings, pool, browser_page):
    page = browser_page
    problems = watch_problems(page)
    async with running_suite(settings, pool) as suite:
        await _sign_in(page, suite)
        assert "code" in await _prompt_none(page, suite)  # signed in at Latchkey: a silent sign-in works

        # Through Latchkey's end_session_endpoint (the verified id_token_hint: no question asked) and back
        # (the page's CSP form-action must allow the redirect to Latchkey that follows the post).
        async with page.expect_navigation(url=suite.demo_url + "/"):
            await page.get_by_role("button", name="Sign out").click()
        await expect(page.locator(".flash")).to_contain_text("signed out of the demo app and of Latchkey")
        await expect(page.get_by_role("link", name="Sign in with Latchkey")).to_be_visible()

        answer = await _prompt_none(page, suite)
        assert answer["error"] == "login_required", answer

        # The way back is good once: a replayed or forged return is refused, not taken as ours.
        response = await page.goto(suite.demo_url + "/signed-out?state=forged")
        assert response is not None and response.status == 400
        await expect(page.get_by_role("alert")).to_contain_text("No sign-out was started")

        # Signing in again asks for the password: the Latchkey session is gone.
        await page.goto(suite.demo_url)
        await page.get_by_role("link", name="Sign in with Latchkey").click()
        await expect(page.locator("input[name=password]")).to_be_visible()
    assert [p for p in problems if p[0].startswith(suite.demo_url) and "signed-out" not in p[0]] == []


@pytest.mark.skipif(importlib.util.find_spec("services.token.backchannel_logout") is None,
                    reason="the token service does not deliver back-channel logouts yet")
async def test_signing_out_at_latchkey_ends_the_demo_session_by_back_channel(settings, pool, browser_page):
    """The user signs out at Latchkey itself (its own page, not the demo's button): the token
    service posts a logout token to the demo, which ends its session for that sid."""
    page = browser_page
    async with running_suite(settings, pool) as suite:
        await _sign_in(page, suite)
        await page.goto(suite.issuer + "/logout")
        await page.locator("form[method=post] [type=submit]").first.click()
        await expect(page.get_by_text("You are signed out")).to_be_visible()
        await page.goto(suite.demo_url)
        # Delivered in the background: reload until it has arrived (a few seconds at most).
        for _ in range(50):
            if await page.get_by_role("link", name="Sign in with Latchkey").count():
                break
            await asyncio.sleep(0.2)
            await page.reload()
        await expect(page.get_by_role("link", name="Sign in with Latchkey")).to_be_visible()
        await expect(page.locator(".flash")).to_contain_text("back-channel logout")


async def test_revoke_at_the_account_page_then_sign_in_again_and_sign_out_for_good(settings, pool, browser_page):
    """Issue 12's round trip in one browser: sign in to the demo, revoke it on Latchkey's account
    page, see the demo's next API call refused (still naming the user) and then its session ended
    by back-channel logout, sign in again, sign out from the demo and land back on its home page
    signed out, where prompt=none gets login_required."""
    page = browser_page
    problems = watch_problems(page)
    held = HeldBackChannel()
    # One POST may wait on the hold well past the default 5 s without counting as a timeout.
    async with running_suite(dataclasses.replace(settings, backchannel_logout_timeout=60), pool,
                             held=held) as suite:
        await _sign_in(page, suite)
        await expect(_api_answers(page).locator(".status")).to_have_text(["200", "200", "200"])

        # The account page, in another tab of the same browser: signed in there already (the session cookie).
        account = await page.context.new_page()
        await account.goto(suite.issuer + "/account")
        await expect(account).to_have_title("Your account · Latchkey")
        await expect(account.locator("main")).to_contain_text("Latchkey Demo App")
        await account.get_by_role("button", name="Revoke access for Latchkey Demo App").click()
        await expect(account.get_by_role("status")).to_contain_text("access was removed")
        revoked_at = time.time()
        await expect(account.locator("main")).not_to_contain_text("Latchkey Demo App")
        await account.close()
        await asyncio.wait_for(held.arrived.wait(), 15)  # the revocation posts a logout token to the demo

        # Back on the demo before that token is let through: its next calls with the access token it
        # holds are refused, and it says so, still naming the user.
        await page.reload()
        for answer in await _api_answers(page).all():
            await expect(answer.locator(".status")).to_have_text("401")
            await expect(answer).to_contain_text('error="invalid_token"')
        await expect(page.get_by_role("heading", name=f"Hello, {suite.name}")).to_be_visible()
        await expect(page.get_by_role("heading", name="This app can no longer act for you")).to_be_visible()
        await expect(page.get_by_role("link", name="Sign in again")).to_be_visible()
        # Its refresh token went with the consent: refreshing cannot bring access back (the demo
        # reports the token endpoint's refusal as a 502 page).
        await page.get_by_role("button", name="Refresh tokens").click()
        await expect(page.get_by_role("alert")).to_contain_text("invalid_grant")
        refused_refresh = (suite.demo_url + "/refresh", "Failed to load resource: the server responded with a "
                           "status of 502 (Bad Gateway)")

        # The logout token arrives: the demo ends its session and says why.
        held.released.set()
        await page.goto(suite.demo_url)
        for _ in range(50):
            if await page.get_by_role("link", name="Sign in with Latchkey").count():
                break
            await asyncio.sleep(0.2)
            await page.reload()
        await expect(page.locator(".flash")).to_contain_text("back-channel logout")

        # Sign in again: still signed in at Latchkey, but the consent is gone, so it is asked for again.
        # A revocation refuses the pair's tokens issued up to its second (iat has one-second
        # resolution): a browser this fast could be back within it, so it waits for the next one.
        await asyncio.sleep(max(0.0, int(revoked_at) + 1.05 - time.time()))
        await page.get_by_role("link", name="Sign in with Latchkey").click()
        await page.locator("button[name=decision][value=allow]").click()
        await page.wait_for_url(suite.demo_url + "/")
        await expect(page.locator(".flash")).to_contain_text("Signed in")
        await expect(page.get_by_role("heading", name=f"Hello, {suite.name}")).to_be_visible()
        await expect(_api_answers(page).locator(".status")).to_have_text(["200", "200", "200"])
        assert "code" in await _prompt_none(page, suite)

        # Sign out from the demo: through Latchkey's end_session_endpoint and back to the demo's home.
        latchkey_cookies = await page.context.cookies(suite.issuer)
        async with page.expect_navigation(url=suite.demo_url + "/"):
            await page.get_by_role("button", name="Sign out").click()
        await expect(page.locator(".flash")).to_contain_text("signed out of the demo app and of Latchkey")
        await expect(page.get_by_role("link", name="Sign in with Latchkey")).to_be_visible()
        await expect(page.get_by_role("heading", name=f"Hello, {suite.name}")).to_have_count(0)

        answer = await _prompt_none(page, suite)
        assert answer["error"] == "login_required", answer
        # Ended at Latchkey, not only forgotten by this browser: its old session cookie is no good either.
        await page.context.add_cookies(latchkey_cookies)
        answer = await _prompt_none(page, suite)
        assert answer["error"] == "login_required", answer
    assert [p for p in problems if p[0].startswith(suite.demo_url) and "signed-out" not in p[0]
            and p != refused_refresh] == []
