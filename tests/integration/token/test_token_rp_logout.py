"""Sessions with a sid and RP-Initiated Logout 1.0, through both real services.

The authorize and token services run on spare ports over the run's PostgreSQL and Redis; a
cookie-keeping aiohttp session is the browser, the token service issues the real ID tokens used
as id_token_hint, and one test lets Authlib drive the round trip from discovery.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import time
import warnings
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import aiohttp
import jwt
import pytest
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # this Authlib release warns about its httpx integration on import
    from authlib.integrations.httpx_client import AsyncOAuth2Client

from services.authorize.app import create_app as create_authorize_app
from services.token.app import create_app as create_token_app
from shared.config import Settings
from shared.crypto.digests import sha256_hex
from shared.models import StoredSigningKey
from shared.stores.pg_signing_keys import PgSigningKeys
from shared.stores.redis_sessions import RedisSessions
from tests.bench.support import free_port
from tests.integration.resource.minting import new_key
from tests.integration.token.helpers import basic
from tests.integration.token.test_token_end_to_end import serving
from tests.support.factories import RegisteredClient, make_client, make_user
from tests.support.flows import DEFAULT_STATE, Pkce, authorization_params, authorize_as_browser, csrf_token

REDIRECT_URI = "https://app.example/callback"
AFTER_LOGOUT = "https://app.example/signed-out"
PASSWORD = "correct horse battery"
OPENID_CLIENT = Path(__file__).parent / "openid_client"


@pytest.fixture
async def suite(settings: Settings) -> AsyncIterator[Settings]:
    authorize_port, token_port = free_port(), free_port()
    configured = dataclasses.replace(settings, issuer=f"http://127.0.0.1:{authorize_port}",
                                     token_url=f"http://127.0.0.1:{token_port}")
    async with serving(create_authorize_app(configured), authorize_port), \
            serving(create_token_app(configured), token_port):
        yield configured


async def registered(pool, **kwargs) -> RegisteredClient:
    client = await make_client(pool, redirect_uris=(REDIRECT_URI,), **kwargs)
    await pool.execute("UPDATE clients SET post_logout_redirect_uris = $2 WHERE client_id = $1",
                       client.client_id, [AFTER_LOGOUT])
    return client


@pytest.fixture
async def rp(pool) -> RegisteredClient:
    return await registered(pool, name="Relying Party")


@pytest.fixture
async def user(pool, suite):
    return await make_user(pool, suite, password=PASSWORD)


@pytest.fixture
async def browser(suite) -> AsyncIterator[aiohttp.ClientSession]:
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP-address host
    async with aiohttp.ClientSession(base_url=suite.issuer, cookie_jar=jar) as session:
        yield session


def session_cookie(browser: aiohttp.ClientSession) -> str | None:
    return next((c.value for c in browser.cookie_jar if c.key == "latchkey_session" and c.value), None)


async def sign_in(browser, suite, client: RegisteredClient, user, scope="openid offline_access",
                  **extra) -> dict[str, Any]:
    """Login (when needed), consent, code exchange: the token response."""
    pkce = Pkce.new()
    params = authorization_params(client_id=client.client_id, redirect_uri=REDIRECT_URI, scope=scope,
                                  code_verifier=pkce.verifier, **extra)
    callback = await authorize_as_browser(browser, params, username=user.username, password=PASSWORD)
    assert "code" in callback, callback
    async with aiohttp.ClientSession() as http:
        auth = {"Authorization": basic(client.client_id, client.secret or "")}
        response = await http.post(f"{suite.token_url}/token", headers=auth,
                                   data={"grant_type": "authorization_code", "code": callback["code"],
                                         "redirect_uri": REDIRECT_URI, "code_verifier": pkce.verifier})
        assert response.status == 200, await response.text()
        tokens: dict[str, Any] = await response.json()
        return tokens


async def logout(browser, **params) -> aiohttp.ClientResponse:
    response: aiohttp.ClientResponse = await browser.get("/logout", params=params, allow_redirects=False)
    return response


async def prompt_none(browser, client: RegisteredClient) -> dict[str, str]:
    params = authorization_params(client_id=client.client_id, redirect_uri=REDIRECT_URI, scope="openid",
                                  code_verifier=Pkce.new().verifier, prompt="none")
    response = await browser.get("/authorize", params=params, allow_redirects=False)
    return dict(parse_qsl(urlsplit(response.headers["Location"]).query))


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


async def test_id_tokens_carry_the_session_sid_and_a_refresh_keeps_it(suite, browser, rp, user, redis):
    tokens = await sign_in(browser, suite, rp, user)
    cookie = session_cookie(browser)
    assert cookie is not None
    session = await RedisSessions(redis, suite.redis_prefix).get(cookie)
    sid = claims_of(tokens["id_token"])["sid"]
    assert session is not None and sid == session.sid and sid != cookie and len(sid) >= 43
    async with aiohttp.ClientSession() as http:
        auth = {"Authorization": basic(rp.client_id, rp.secret or "")}
        refreshed = await (await http.post(f"{suite.token_url}/token", headers=auth,
                                           data={"grant_type": "refresh_token",
                                                 "refresh_token": tokens["refresh_token"]})).json()
    renewed = claims_of(refreshed["id_token"])
    assert renewed["sid"] == sid and renewed["sub"] == str(user.id) and renewed["aud"] == rp.client_id


async def test_a_valid_hint_and_a_registered_uri_sign_out_and_return_with_state(suite, browser, rp, user, redis):
    tokens = await sign_in(browser, suite, rp, user)
    cookie = session_cookie(browser)
    assert cookie is not None
    response = await logout(browser, id_token_hint=tokens["id_token"], post_logout_redirect_uri=AFTER_LOGOUT,
                            state="s-42", ui_locales="de", logout_hint=user.username)
    assert response.status == 302 and response.headers["Location"] == f"{AFTER_LOGOUT}?state=s-42"
    assert not await redis.exists(f"{suite.redis_prefix}session:{sha256_hex(cookie)}")
    assert session_cookie(browser) is None  # cleared
    assert (await prompt_none(browser, rp))["error"] == "login_required"


async def test_a_post_logout_request_is_answered_with_303(suite, browser, rp, user):
    tokens = await sign_in(browser, suite, rp, user)
    response = await browser.post("/logout", data={"id_token_hint": tokens["id_token"], "client_id": rp.client_id,
                                                   "post_logout_redirect_uri": AFTER_LOGOUT}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == AFTER_LOGOUT


async def test_a_post_without_the_session_cookie_is_sent_on_as_a_get(suite, rp):
    """A form posted from the RP's site comes without the SameSite=Lax session cookie; the GET it
    is turned into carries it (tests/browser: ..._posted_from_another_site_...)."""
    async with aiohttp.ClientSession(base_url=suite.issuer) as cookieless:
        response = await cookieless.post("/logout", data={"client_id": rp.client_id, "state": "s 1", "extra": "x",
                                                          "post_logout_redirect_uri": AFTER_LOGOUT},
                                          allow_redirects=False)
        assert response.status == 303
        location = urlsplit(response.headers["Location"])
        assert location.path == "/logout" and dict(parse_qsl(location.query)) == {
            "client_id": rp.client_id, "post_logout_redirect_uri": AFTER_LOGOUT, "state": "s 1"}
        followed = await cookieless.get(response.headers["Location"], allow_redirects=False)
        assert followed.status == 302 and followed.headers["Location"] == f"{AFTER_LOGOUT}?state=s+1"
        repeated = await cookieless.post("/logout", data=[("client_id", rp.client_id), ("client_id", "other")],
                                         allow_redirects=False)
        assert repeated.status == 400 and "Location" not in repeated.headers


async def test_without_a_return_address_the_signed_out_page_links_to_the_clients_home(suite, browser, user, pool):
    """Issue 12: no dead end. The page links to the client's registered home (client_uri), never
    to an address from the request."""
    client = await registered(pool, name="Home App", client_uri="https://app.example/")
    tokens = await sign_in(browser, suite, client, user)
    response = await logout(browser, id_token_hint=tokens["id_token"], client_id=client.client_id)
    html = await response.text()
    assert response.status == 200 and "You are signed out." in html and "close this window" not in html
    assert 'href="https://app.example/"' in html and "Back to Home App" in html
    bare = await logout(browser)  # no client named: nothing to link to
    assert "You can close this window." in await bare.text()


@pytest.mark.parametrize("uri", [AFTER_LOGOUT + "/x", AFTER_LOGOUT.upper(), AFTER_LOGOUT + "?a=1",
                                 "https://evil.example/"],
                         ids=["longer path", "other case", "extra query", "another site"])
async def test_an_unregistered_uri_is_an_error_page_and_no_redirect(suite, browser, rp, user, redis, uri):
    tokens = await sign_in(browser, suite, rp, user)
    response = await logout(browser, id_token_hint=tokens["id_token"], post_logout_redirect_uri=uri)
    assert response.status == 400 and "Location" not in response.headers
    assert "has not registered" in await response.text()
    assert session_cookie(browser) is not None
    assert (await prompt_none(browser, rp)).get("code")  # still signed in


async def test_a_hint_from_an_earlier_session_asks_first(suite, browser, rp, user):
    """§2: the OP MUST ask when the ID token does not belong to the current session; its sid tells."""
    old = await sign_in(browser, suite, rp, user)
    assert (await logout(browser, id_token_hint=old["id_token"])).status == 200  # that session ended
    await sign_in(browser, suite, rp, user)  # a new session, a new sid
    response = await logout(browser, id_token_hint=old["id_token"], post_logout_redirect_uri=AFTER_LOGOUT,
                            state="s-old")
    html = await response.text()
    assert response.status == 200 and "Sign out?" in html and "Location" not in response.headers
    assert (await prompt_none(browser, rp)).get("code")  # asking ended nothing
    confirmed = await browser.post("/logout", data={"csrf": csrf_token(html)}, allow_redirects=False)
    assert confirmed.status == 303 and confirmed.headers["Location"] == f"{AFTER_LOGOUT}?state=s-old"
    assert (await prompt_none(browser, rp))["error"] == "login_required"


async def test_a_return_address_without_a_client_is_never_followed(suite, browser, rp, user):
    """No client_id and no hint: nothing says whose registered URI it should be (§3), so no
    redirect even to an address some client registered; the session is untouched."""
    await sign_in(browser, suite, rp, user)
    for uri in (AFTER_LOGOUT, "https://evil.example/"):
        response = await logout(browser, post_logout_redirect_uri=uri, state="s")
        assert response.status == 400 and "Location" not in response.headers
    assert (await prompt_none(browser, rp)).get("code")


async def test_an_unknown_or_disabled_client_is_refused(suite, browser, rp, user, pool):
    await sign_in(browser, suite, rp, user)
    response = await logout(browser, client_id="no-such-client", post_logout_redirect_uri=AFTER_LOGOUT)
    assert response.status == 400 and "Location" not in response.headers
    disabled = await registered(pool, name="Disabled")
    await pool.execute("UPDATE clients SET disabled = true WHERE client_id = $1", disabled.client_id)
    response = await logout(browser, client_id=disabled.client_id, post_logout_redirect_uri=AFTER_LOGOUT)
    assert response.status == 400 and "Location" not in response.headers
    assert session_cookie(browser) is not None


async def test_without_a_session_a_valid_request_still_returns_the_browser(suite, browser, rp, user):
    """Signed out already (the RP's second try, another tab): the registered URI is still honoured,
    with state, and nothing else happens."""
    tokens = await sign_in(browser, suite, rp, user)
    assert (await logout(browser, id_token_hint=tokens["id_token"])).status == 200
    again = await logout(browser, id_token_hint=tokens["id_token"], post_logout_redirect_uri=AFTER_LOGOUT,
                         state="s-2")
    assert again.status == 302 and again.headers["Location"] == f"{AFTER_LOGOUT}?state=s-2"
    refused = await logout(browser, id_token_hint=tokens["id_token"], post_logout_redirect_uri="https://evil.example/")
    assert refused.status == 400 and "Location" not in refused.headers


async def test_a_hint_for_another_client_is_refused(suite, browser, rp, user, pool):
    other = await registered(pool, name="Other")
    tokens = await sign_in(browser, suite, rp, user)
    response = await logout(browser, id_token_hint=tokens["id_token"], client_id=other.client_id,
                            post_logout_redirect_uri=AFTER_LOGOUT)
    assert response.status == 400 and "Location" not in response.headers
    assert (await prompt_none(browser, rp)).get("code")


async def test_a_tampered_hint_asks_and_never_redirects(suite, browser, rp, user):
    tokens = await sign_in(browser, suite, rp, user)
    header, payload, signature = tokens["id_token"].split(".")
    forged = dict(claims_of(tokens["id_token"]), sub="someone-else")
    payload = jwt.utils.base64url_encode(json.dumps(forged).encode()).decode()
    response = await logout(browser, id_token_hint=f"{header}.{payload}.{signature}",
                            post_logout_redirect_uri=AFTER_LOGOUT, state="s")
    html = await response.text()
    assert response.status == 200 and "Sign out?" in html and "Location" not in response.headers
    assert (await prompt_none(browser, rp)).get("code")  # asking ended nothing
    confirmed = await browser.post("/logout", data={"csrf": csrf_token(html)}, allow_redirects=False)
    assert confirmed.status == 200 and "Location" not in confirmed.headers  # signed out, not sent anywhere
    assert (await prompt_none(browser, rp))["error"] == "login_required"


async def test_without_a_hint_the_user_confirms_then_returns(suite, browser, rp, user):
    await sign_in(browser, suite, rp, user)
    page = await logout(browser, client_id=rp.client_id, post_logout_redirect_uri=AFTER_LOGOUT, state="s-1")
    html = await page.text()
    assert page.status == 200 and "Relying Party" in html
    assert "https://app.example" in page.headers["Content-Security-Policy"]  # form-action allows the redirect
    confirmed = await browser.post("/logout", data={"csrf": csrf_token(html)}, allow_redirects=False)
    assert confirmed.status == 303 and confirmed.headers["Location"] == f"{AFTER_LOGOUT}?state=s-1"
    assert (await prompt_none(browser, rp))["error"] == "login_required"


async def test_a_replayed_confirmation_form_is_refused(suite, browser, rp, user):
    await sign_in(browser, suite, rp, user)
    html = await (await logout(browser)).text()
    form = {"csrf": csrf_token(html)}
    assert (await browser.post("/logout", data=form, allow_redirects=False)).status == 200
    await sign_in(browser, suite, rp, user)  # a new session; the old form comes back
    replay = await browser.post("/logout", data=form, allow_redirects=False)
    assert replay.status == 403
    assert (await prompt_none(browser, rp)).get("code")  # the new session survived


async def test_a_confirmation_form_from_another_session_is_refused(suite, browser, rp, user):
    await sign_in(browser, suite, rp, user)
    html = await (await logout(browser)).text()
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=suite.issuer, cookie_jar=jar) as victim:
        await sign_in(victim, suite, rp, user)
        forced = await victim.post("/logout", data={"csrf": csrf_token(html)}, allow_redirects=False)
        assert forced.status == 403
        assert (await prompt_none(victim, rp)).get("code")


async def test_a_confirmation_posted_from_elsewhere_does_not_spend_the_users_form(suite, browser, rp, user):
    await sign_in(browser, suite, rp, user)
    form = {"csrf": csrf_token(await (await logout(browser)).text())}
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=suite.issuer, cookie_jar=jar) as elsewhere:
        assert (await elsewhere.post("/logout", data=form, allow_redirects=False)).status == 403  # no session
        await sign_in(elsewhere, suite, rp, user)
        assert (await elsewhere.post("/logout", data=form, allow_redirects=False)).status == 403  # another one
        assert (await prompt_none(elsewhere, rp)).get("code")
    assert (await browser.post("/logout", data=form, allow_redirects=False)).status == 200
    assert (await prompt_none(browser, rp))["error"] == "login_required"


@pytest.fixture
async def expired_hint_key(pool, suite):
    """A published (retired, still listed) key of ours, to sign an ID token that has expired."""
    key = new_key("ES256")
    now = datetime.now(UTC)
    await PgSigningKeys(pool).insert(StoredSigningKey(
        kid=key.kid, alg=key.alg, status="retired", public_jwk=key.public_jwk, private_key_encrypted=b"unused",
        created_at=now, activates_at=now, retired_at=now, publish_until=now + timedelta(minutes=5)))
    yield key
    await pool.execute("DELETE FROM signing_keys WHERE kid = $1", key.kid)


async def test_an_expired_hint_is_accepted(suite, browser, rp, user, expired_hint_key):
    await sign_in(browser, suite, rp, user)
    long_ago = int(time.time()) - 86400
    hint = jwt.encode({"iss": suite.issuer, "sub": str(user.id), "aud": rp.client_id, "iat": long_ago,
                       "exp": long_ago + 600}, expired_hint_key.private_key, algorithm="ES256",
                      headers={"kid": expired_hint_key.kid, "typ": "JWT"})
    response = await logout(browser, id_token_hint=hint, post_logout_redirect_uri=AFTER_LOGOUT)
    assert response.status == 302 and response.headers["Location"] == AFTER_LOGOUT
    assert (await prompt_none(browser, rp))["error"] == "login_required"


@pytest.mark.parametrize("claims", [{"iss": "https://other.example"}, {"aud": ["a", "b"]}],
                         ids=["another issuer", "two audiences"])
async def test_a_hint_with_the_wrong_issuer_or_audience_is_not_trusted(suite, browser, rp, user, expired_hint_key,
                                                                       claims):
    await sign_in(browser, suite, rp, user)
    hint = jwt.encode({"iss": suite.issuer, "sub": str(user.id), "aud": rp.client_id, **claims},
                      expired_hint_key.private_key, algorithm="ES256", headers={"kid": expired_hint_key.kid})
    response = await logout(browser, id_token_hint=hint, post_logout_redirect_uri=AFTER_LOGOUT)
    assert response.status == 200 and "Location" not in response.headers  # asked, no redirect
    assert (await prompt_none(browser, rp)).get("code")


async def test_a_logout_token_is_not_a_hint(suite, browser, rp, user, expired_hint_key):
    """Signed by a key of ours, for the client, about the user: but a logout token (typ logout+jwt),
    which the RP received and could pass on; only an ID token ends the session without asking."""
    await sign_in(browser, suite, rp, user)
    now = int(time.time())
    hint = jwt.encode({"iss": suite.issuer, "sub": str(user.id), "aud": rp.client_id, "iat": now, "exp": now + 120,
                       "jti": "j", "events": {"http://schemas.openid.net/event/backchannel-logout": {}}},
                      expired_hint_key.private_key, algorithm="ES256",
                      headers={"kid": expired_hint_key.kid, "typ": "logout+jwt"})
    response = await logout(browser, id_token_hint=hint, post_logout_redirect_uri=AFTER_LOGOUT)
    assert response.status == 200 and "Location" not in response.headers  # asked, no redirect
    assert (await prompt_none(browser, rp)).get("code")


async def test_an_access_token_is_not_a_hint(suite, browser, rp, user):
    tokens = await sign_in(browser, suite, rp, user)
    response = await logout(browser, id_token_hint=tokens["access_token"], post_logout_redirect_uri=AFTER_LOGOUT)
    assert response.status == 200 and "Location" not in response.headers


async def test_prompt_none_with_a_remembered_offline_access_returns_a_refresh_token(suite, browser, rp, user):
    """OIDC Core §11: the remembered consent permits offline access without prompt=consent."""
    await sign_in(browser, suite, rp, user, scope="openid offline_access")
    silent = await sign_in(browser, suite, rp, user, scope="openid offline_access", prompt="none")
    assert "refresh_token" in silent and "offline_access" in silent["scope"].split()


async def authorize_with(browser, client: RegisteredClient, **extra: str) -> dict[str, str]:
    """One GET /authorize; the query of where it sends the browser (the client, or our login page)."""
    params = authorization_params(client_id=client.client_id, redirect_uri=REDIRECT_URI, scope="openid",
                                  code_verifier=Pkce.new().verifier, **extra)
    response = await browser.get("/authorize", params=params, allow_redirects=False)
    location = response.headers["Location"]
    return {"path": urlsplit(location).path, **dict(parse_qsl(urlsplit(location).query))}


async def test_id_token_hint_at_authorize_answers_only_for_the_user_it_names(suite, browser, rp, user, pool):
    """OIDC Core §3.1.2.1: a positive answer if the user the ID token names is signed in, else
    (prompt=none) login_required; a hint that is no ID token of ours is invalid_request."""
    mine = await sign_in(browser, suite, rp, user)
    someone_else = await make_user(pool, suite, password=PASSWORD)
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=suite.issuer, cookie_jar=jar) as elsewhere:
        theirs = await sign_in(elsewhere, suite, rp, someone_else)
    silent = await authorize_with(browser, rp, prompt="none", id_token_hint=mine["id_token"])
    assert "code" in silent and silent["state"] == DEFAULT_STATE
    refused = await authorize_with(browser, rp, prompt="none", id_token_hint=theirs["id_token"])
    assert (refused["error"], refused["state"]) == ("login_required", DEFAULT_STATE)
    tampered = mine["id_token"][:-4] + ("AAAA" if not mine["id_token"].endswith("AAAA") else "BBBB")
    for bad in (tampered, mine["access_token"], "not-a-jwt"):
        answer = await authorize_with(browser, rp, prompt="none", id_token_hint=bad)
        assert answer["error"] == "invalid_request" and "id_token_hint" in answer["error_description"]


async def test_a_hint_for_another_user_asks_to_sign_in_and_only_that_user_gets_a_code(suite, browser, rp, user, pool):
    await sign_in(browser, suite, rp, user)
    someone_else = await make_user(pool, suite, password=PASSWORD)
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=suite.issuer, cookie_jar=jar) as elsewhere:
        theirs = await sign_in(elsewhere, suite, rp, someone_else)
    params = authorization_params(client_id=rp.client_id, redirect_uri=REDIRECT_URI, scope="openid",
                                  code_verifier=Pkce.new().verifier, id_token_hint=theirs["id_token"])
    # Signed in as the wrong user: the login page, and signing in as that same user is refused.
    wrong = await authorize_as_browser(browser, params, username=user.username, password=PASSWORD)
    assert (wrong["error"], wrong["state"]) == ("login_required", DEFAULT_STATE) and "code" not in wrong
    right = await authorize_as_browser(browser, params, username=someone_else.username, password=PASSWORD)
    assert "code" in right


async def test_authlib_drives_rp_initiated_logout_from_discovery(suite, browser, rp, user):
    """Authlib has no end-session helper: the URL is built from discovery and its client metadata."""
    async with aiohttp.ClientSession() as http:
        metadata = await (await http.get(f"{suite.issuer}/.well-known/openid-configuration")).json()
    assert metadata["end_session_endpoint"] == f"{suite.issuer}/logout"
    async with AsyncOAuth2Client(client_id=rp.client_id, client_secret=rp.secret, scope="openid",
                                 redirect_uri=REDIRECT_URI, code_challenge_method="S256",
                                 token_endpoint_auth_method="client_secret_basic") as oauth:
        verifier = generate_token(48)
        url, state = oauth.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier)
        callback = await authorize_as_browser(browser, dict(parse_qsl(urlsplit(url).query)),
                                              username=user.username, password=PASSWORD)
        token = await oauth.fetch_token(metadata["token_endpoint"], code=callback["code"], state=state,
                                        code_verifier=verifier)
        logout_state = generate_token(16)
        logout_url = add_params_to_uri(metadata["end_session_endpoint"], {
            "id_token_hint": token["id_token"], "client_id": oauth.client_id,
            "post_logout_redirect_uri": AFTER_LOGOUT, "state": logout_state})
    response = await browser.get(logout_url, allow_redirects=False)
    back = urlsplit(response.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == AFTER_LOGOUT
    assert dict(parse_qsl(back.query)) == {"state": logout_state}
    assert (await prompt_none(browser, rp))["error"] == "login_required"


def require_openid_client() -> None:
    """Skips where node or openid-client is missing; in CI (CI=true) that is a failure (as axe-core)."""
    if (OPENID_CLIENT / "node_modules" / "openid-client").is_dir() and shutil.which("node"):
        return
    message = f"node or openid-client is missing: npm ci --prefix {OPENID_CLIENT}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


async def openid_client(*args: str) -> dict[str, Any]:
    """One step of tests/integration/token/openid_client/rp.mjs: its JSON answer."""
    process = await asyncio.create_subprocess_exec("node", str(OPENID_CLIENT / "rp.mjs"), *args,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    answer: dict[str, Any] = json.loads(out)
    return answer


async def test_openid_client_drives_sign_in_and_rp_initiated_logout(suite, browser, rp, user):
    """openid-client (Node, a certified RP library) reads discovery, signs in (its own PKCE, state,
    nonce and ID token checks) and builds the end-session URL with buildEndSessionUrl."""
    require_openid_client()
    rp_args = (suite.issuer, rp.client_id, rp.secret or "")
    start = await openid_client("authorize", *rp_args, REDIRECT_URI)
    callback = await authorize_as_browser(browser, dict(parse_qsl(urlsplit(start["url"]).query)),
                                          username=user.username, password=PASSWORD)
    signed_in = await openid_client("callback", *rp_args, f"{REDIRECT_URI}?{urlencode(callback)}",
                                    start["verifier"], start["state"], start["nonce"])
    assert signed_in["claims"]["sub"] == str(user.id) and signed_in["claims"]["sid"]
    end_session = await openid_client("logout", *rp_args, signed_in["id_token"], AFTER_LOGOUT, "node-state")
    assert end_session["url"].startswith(f"{suite.issuer}/logout?")
    response = await browser.get(end_session["url"], allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == f"{AFTER_LOGOUT}?state=node-state"
    assert (await prompt_none(browser, rp))["error"] == "login_required"
