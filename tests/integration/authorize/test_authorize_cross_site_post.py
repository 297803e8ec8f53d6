"""An authorization request POSTed from the client's site (OIDC Core §3.1.2.1).

A browser keeps the SameSite=Lax session cookie off a cross-site POST and says so in Fetch
Metadata (``Sec-Fetch-Site: cross-site``). Such a valid request comes back as a GET to
/authorize (303), which carries the cookie, so a signed-in user is not asked to sign in again
and ``prompt=none`` does not answer ``login_required``. Here a second client without cookies
plays the browser's cookieless POST; tests/browser shows the real browser doing it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest

from tests.integration.authorize.conftest import CALLBACK
from tests.support.flows import Pkce, authorization_params, authorize_as_browser, redirect_query

PKCE = Pkce.new()
CROSS_SITE = {"Sec-Fetch-Site": "cross-site"}


@pytest.fixture
def params(web_app):
    return authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid profile",
                                code_verifier=PKCE.verifier)


@pytest.fixture
async def signed_in(authorize_client, params, user):
    await authorize_as_browser(authorize_client, params, username=user.username, password=user.password)
    return authorize_client


async def post_without_cookies(client, data, headers=CROSS_SITE):
    """The POST as the browser sends it from another site: without Latchkey's cookies."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser_post:
        response = await browser_post.post(client.make_url("/authorize"), data=data, headers=headers,
                                           allow_redirects=False)
        await response.read()
        return response


async def test_a_cross_site_post_comes_back_as_a_get_that_finds_the_session(signed_in, params):
    sent = {**params, "prompt": "none"}
    response = await post_without_cookies(signed_in, sent)
    assert response.status == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/authorize" and dict(parse_qsl(location.query)) == sent
    again = await signed_in.get(response.headers["Location"], allow_redirects=False)  # now with the cookie
    assert again.status == 302
    assert set(redirect_query(again)) == {"code", "state", "iss"}  # not login_required


async def test_an_invalid_cross_site_post_is_answered_at_once(signed_in, params):
    unregistered = await post_without_cookies(signed_in, {**params, "redirect_uri": "https://evil.example/cb"})
    assert unregistered.status == 400 and "Location" not in unregistered.headers
    bad_scope = await post_without_cookies(signed_in, {**params, "response_type": "token"})
    assert bad_scope.status == 303 and bad_scope.headers["Location"].startswith(CALLBACK)
    assert redirect_query(bad_scope)["error"] == "unsupported_response_type"


async def test_a_post_with_the_cookie_or_not_from_another_site_is_answered_as_before(signed_in, params):
    with_cookie = await signed_in.post("/authorize", data={**params, "prompt": "none"}, headers=CROSS_SITE,
                                       allow_redirects=False)
    assert with_cookie.status == 303 and set(redirect_query(with_cookie)) == {"code", "state", "iss"}
    same_site = await post_without_cookies(signed_in, params, headers={"Sec-Fetch-Site": "same-origin"})
    assert same_site.status == 303 and same_site.headers["Location"].startswith("/login?tx=")
    no_metadata = await post_without_cookies(signed_in, params, headers={})
    assert no_metadata.status == 303 and no_metadata.headers["Location"].startswith("/login?tx=")
