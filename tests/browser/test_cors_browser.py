"""A real browser enforces the CORS answers: a page on a client's allowed origin exchanges a code
at /token, reads /userinfo (a preflighted request: it sends Authorization) and /jwks with fetch();
a page on any other origin cannot read /token or /userinfo (fetch rejects), only the public JWKS.

Headless Chromium (Debian's package) through Playwright; the token and resource services, and
two tiny page servers (two origins), listen on spare loopback ports; PostgreSQL and Redis are
the run's own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from services.token.app import create_app as create_token_app
from tests.browser.chromium import NEEDS_CHROMIUM
from tests.integration.resource.conftest import resource_service
from tests.integration.resource.serving import RunningApp
from tests.integration.token.helpers import code_form, issue_code
from tests.support.factories import make_client, make_user

pytestmark = [
    pytest.mark.browser,
    NEEDS_CHROMIUM,
]

# Runs in the page: each step's outcome, a rejected fetch (what CORS blocking looks like to a
# page) reported as "blocked".
PAGE_SCRIPT = """
async ({tokenUrl, jwksUrl, userinfoUrl, form}) => {
  const attempt = async (call) => {
    try { return await call(); } catch (e) { return "blocked"; }
  };
  const out = {};
  out.token = await attempt(async () => {
    const r = await fetch(tokenUrl, {method: "POST", body: new URLSearchParams(form)});
    return {status: r.status, body: await r.json()};
  });
  const access = out.token.body ? out.token.body.access_token : "x";
  out.userinfo = await attempt(async () => {
    const r = await fetch(userinfoUrl, {headers: {Authorization: "Bearer " + access}});
    return {status: r.status, body: await r.json()};
  });
  // A replayed code: refused (and the tokens issued from it revoked, so userinfo comes first).
  out.replay = await attempt(async () => {
    const r = await fetch(tokenUrl, {method: "POST", body: new URLSearchParams(form)});
    return {status: r.status, body: await r.json()};
  });
  out.jwks = await attempt(async () => {
    const r = await fetch(jwksUrl);
    return {status: r.status, keys: (await r.json()).keys.length};
  });
  return out;
}
"""


async def page_server() -> RunningApp:
    async def index(request: web.Request) -> web.Response:
        return web.Response(text='<!doctype html><link rel="icon" href="data:,"><title>SPA</title><p>App</p>',
                            content_type="text/html")

    app = web.Application()
    app.router.add_get("/", index)
    return RunningApp(app)


@pytest.fixture
async def origins() -> AsyncIterator[tuple[str, str]]:
    """(allowed, stranger): two page servers, two origins."""
    async with await page_server() as allowed, await page_server() as stranger:
        yield allowed.url, stranger.url


async def run_page(browser, origin: str, urls: dict[str, object]) -> dict[str, Any]:
    page = await browser.new_page()
    try:
        await page.goto(origin + "/")
        result: dict[str, Any] = await page.evaluate(PAGE_SCRIPT, urls)
        return result
    finally:
        await page.close()


async def test_only_the_clients_origin_reads_token_and_userinfo(browser, origins, pool, redis, settings):
    allowed, stranger = origins
    client = await make_client(pool, public=True, name="Browser SPA", cors_origins=(allowed,))
    user = await make_user(pool, settings, name="Grace Hopper")
    # The services start after the client exists: their set of every client's origins is cached.
    async with RunningApp(create_token_app(settings)) as token, \
            resource_service(settings, token.url + "/jwks") as resource:
        def urls(form: dict[str, str]) -> dict[str, object]:
            return {"tokenUrl": token.url + "/token", "jwksUrl": token.url + "/jwks",
                    "userinfoUrl": resource.url + "/userinfo", "form": form}

        issued = await issue_code(redis, settings, client, user, scope="openid profile")
        mine = await run_page(browser, allowed, urls({**code_form(issued), "client_id": client.client_id}))
        assert mine["token"]["status"] == 200 and mine["token"]["body"]["token_type"] == "Bearer"
        # The error of a replayed code is readable too, so the app can tell what went wrong.
        assert mine["replay"] == {"status": 400, "body": {"error": "invalid_grant",
                                                          "error_description": mine["replay"]["body"]
                                                          ["error_description"]}}
        assert mine["userinfo"]["status"] == 200
        assert mine["userinfo"]["body"]["name"] == "Grace Hopper"
        assert mine["jwks"]["status"] == 200 and mine["jwks"]["keys"] >= 1

        issued = await issue_code(redis, settings, client, user, scope="openid profile")
        theirs = await run_page(browser, stranger, urls({**code_form(issued), "client_id": client.client_id}))
        assert theirs["token"] == "blocked"
        assert theirs["replay"] == "blocked"
        assert theirs["userinfo"] == "blocked"  # the preflight gets no Access-Control-Allow-Origin
        assert theirs["jwks"]["status"] == 200  # public keys: readable from anywhere
