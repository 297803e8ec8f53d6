"""Which API a token is for (issue 11, RFC 8707), through the real authorize and token services:
resource= at /authorize and /token, scopes that pick their API, the consent page's wording,
introspection by an API with its own credentials, and the whole flow with Authlib and the
shipped verifier protecting the API."""

from __future__ import annotations

import base64
import json
import secrets
import warnings
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest
from aiohttp import web
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from redis.asyncio import Redis

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import AsyncOAuth2Client

from shared.bearer import (
    ACCESS_TOKEN,
    BearerConfig,
    bearer_context,
    bearer_error_middleware,
    bearer_middleware,
    require_scope,
)
from shared.management.apis import create_api
from shared.models import Client
from shared.redis_client import create_redis
from shared.stores.pg_clients import PgClients
from tests.bench.support import free_port
from tests.integration.cli.conftest import run_latchkey
from tests.integration.token import test_token_end_to_end as e2e
from tests.integration.token.helpers import basic
from tests.integration.token.test_token_end_to_end import PASSWORD, REDIRECT_URI, browser_logs_in_and_consents, serving
from tests.support.factories import make_client, make_user
from tests.support.flows import DEFAULT_STATE, authorization_params, authorize_as_browser, csrf_token, location_of
from tests.support.typed import present

suite = e2e.suite  # the fixture: authorize and token on spare ports


async def new_api(pool, *scope_words: str, ttl: int | None = None,
                  with_secret: bool = False) -> tuple[str, list[str], Any]:
    tag = secrets.token_hex(3)
    identifier = f"https://api-{tag}.example.com"
    names = [f"{w}{tag}:{w}" for w in scope_words]
    async with pool.acquire() as conn:
        record = await create_api(conn, identifier=identifier, name=f"API {tag}", access_token_ttl=ttl,
                                  scopes=[f"{n}=Do {n} things" for n in names], with_secret=with_secret)
    return identifier, names, record


async def browser_flow(suite, params: dict[str, str], username: str) -> dict[str, str]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=suite.issuer, cookie_jar=jar) as browser:
        return await authorize_as_browser(browser, params, username=username, password=PASSWORD)


async def tokens_for(suite, registered, user, scope: str, **extra: str) -> dict[str, Any]:
    verifier = generate_token(48)
    callback = await browser_flow(suite, authorization_params(
        client_id=registered.client_id, redirect_uri=REDIRECT_URI, scope=scope, code_verifier=verifier, **extra),
        user.username)
    assert "code" in callback, callback
    async with aiohttp.ClientSession() as http:
        response = await http.post(f"{suite.token_url}/token",
                                   headers={"Authorization": basic(registered.client_id, present(registered.secret))},
                                   data={"grant_type": "authorization_code", "code": callback["code"],
                                         "redirect_uri": REDIRECT_URI, "code_verifier": verifier,
                                         **{k: v for k, v in extra.items() if k == "resource"}})
        return {"status": response.status, **await response.json()}


def claims_of(jwt_token: str) -> dict[str, Any]:
    payload = jwt_token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


async def test_resource_selects_the_api_its_lifetime_and_exact_scopes(suite, pool):
    identifier, (read, write), _ = await new_api(pool, "read", "write", ttl=120)
    registered = await make_client(pool, redirect_uris=(REDIRECT_URI,), scope=f"openid {read} {write}")
    user = await make_user(pool, suite, password=PASSWORD)
    body = await tokens_for(suite, registered, user, f"openid {read}", resource=identifier)
    assert body["status"] == 200, body
    claims = claims_of(body["access_token"])
    assert (claims["aud"], claims["scope"], body["scope"]) == (
        [identifier, suite.userinfo_audience], f"openid {read}", f"openid {read}")  # OIDC Core §5.3.1
    assert body["expires_in"] == 120 and claims["exp"] - claims["iat"] == 120


async def test_scopes_of_one_api_select_it_without_resource(suite, pool):
    identifier, (read,), _ = await new_api(pool, "read")
    registered = await make_client(pool, redirect_uris=(REDIRECT_URI,), scope=f"openid {read}")
    user = await make_user(pool, suite, password=PASSWORD)
    body = await tokens_for(suite, registered, user, read)
    assert claims_of(body["access_token"])["aud"] == identifier
    only_openid = await tokens_for(suite, registered, user, "openid")
    assert claims_of(only_openid["access_token"])["aud"] == suite.access_audience


@pytest.mark.parametrize("case", ["unknown resource", "resource not linked", "two APIs' scopes",
                                  "scope of an unlinked API", "scope outside the resource"])
async def test_authorize_refusals_go_back_to_the_client(suite, pool, case):
    first, (a_read,), _ = await new_api(pool, "read")
    second, (b_read,), _ = await new_api(pool, "read")
    registered = await make_client(pool, redirect_uris=(REDIRECT_URI,), scope=f"openid {a_read} {b_read}")
    unlinked = Client(client_id="lk_" + secrets.token_hex(8), name="Unlinked", secret_hash="x" * 64,
                      redirect_uris=(REDIRECT_URI,), allowed_scopes=frozenset({"openid", a_read}),
                      grant_types=frozenset({"authorization_code"}), token_endpoint_auth_method="client_secret_basic",
                      is_public=False)
    await PgClients(pool).create(unlinked)
    lonely, _, _ = await new_api(pool, "x")
    client_id, scope, extra, error, words = {
        "unknown resource": (registered.client_id, "openid", {"resource": "https://nowhere.example.com"},
                             "invalid_target", "not served"),
        "resource not linked": (registered.client_id, "openid", {"resource": lonely}, "invalid_target", "may not"),
        "two APIs' scopes": (registered.client_id, f"{a_read} {b_read}", {}, "invalid_scope", "different APIs"),
        "scope of an unlinked API": (unlinked.client_id, f"openid {a_read}", {}, "invalid_scope", "may not use"),
        "scope outside the resource": (registered.client_id, f"{a_read} {b_read}", {"resource": first},
                                       "invalid_scope", second),
    }[case]
    params = authorization_params(client_id=client_id, redirect_uri=REDIRECT_URI, scope=scope,
                                  code_verifier=generate_token(48), **extra)
    async with aiohttp.ClientSession(base_url=suite.issuer) as browser:
        location = location_of(await browser.get("/authorize", params=params, allow_redirects=False))
    assert location.startswith(REDIRECT_URI)
    query = dict(parse_qsl(urlsplit(location).query))
    assert (query["error"], query["state"]) == (error, DEFAULT_STATE) and words in query["error_description"]


@pytest.mark.parametrize("sent, status", [
    (("other",), 400), (("own", "own"), 200), (("own", "other"), 400),
], ids=["another API", "its own API twice", "its own API and another"])
async def test_token_request_naming_another_resource_is_invalid_target(suite, pool, sent, status):
    """RFC 8707 §2: resource may be repeated; copies of the granted one are that one, any other is
    invalid_target."""
    identifier, (read,), _ = await new_api(pool, "read")
    other, _, _ = await new_api(pool, "read")
    registered = await make_client(pool, redirect_uris=(REDIRECT_URI,), scope=f"openid {read}")
    user = await make_user(pool, suite, password=PASSWORD)
    verifier = generate_token(48)
    callback = await browser_flow(suite, authorization_params(client_id=registered.client_id, redirect_uri=REDIRECT_URI,
                                                              scope=read, code_verifier=verifier), user.username)
    names = {"own": identifier, "other": other}
    async with aiohttp.ClientSession() as http:
        response = await http.post(f"{suite.token_url}/token",
                                   headers={"Authorization": basic(registered.client_id, present(registered.secret))},
                                   data=[("grant_type", "authorization_code"), ("code", callback["code"]),
                                         *(("resource", names[name]) for name in sent),
                                         ("redirect_uri", REDIRECT_URI), ("code_verifier", verifier)])
        body = await response.json()
    assert response.status == status
    if status == 200:
        assert claims_of(body["access_token"])["aud"] == identifier
    else:
        assert body["error"] == "invalid_target"


async def test_consent_page_shows_each_scope_in_its_api_words(suite, pool):
    _, (read, write), _ = await new_api(pool, "read", "write")
    registered = await make_client(pool, redirect_uris=(REDIRECT_URI,), scope=f"openid {read} {write}")
    user = await make_user(pool, suite, password=PASSWORD)
    params = authorization_params(client_id=registered.client_id, redirect_uri=REDIRECT_URI,
                                  scope=f"openid {read} {write}", code_verifier=generate_token(48))
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=suite.issuer, cookie_jar=jar) as browser:
        login = location_of(await browser.get("/authorize", params=params, allow_redirects=False))
        html = await (await browser.get(login)).text()
        consent = location_of(await browser.post(login, data={"csrf": csrf_token(html), "username": user.username,
                                                               "password": PASSWORD}, allow_redirects=False))
        page = await (await browser.get(consent)).text()
    assert f"Do {read} things" in page and f"Do {write} things" in page
    assert "Sign you in and know who you are" in page


async def introspect(suite, client_id: str, secret: str, token: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        response = await http.post(f"{suite.token_url}/introspect", data={"token": token},
                                   headers={"Authorization": basic(client_id, secret)})
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


async def test_an_api_introspects_the_tokens_meant_for_it_only(suite, pool):
    identifier, (read,), record = await new_api(pool, "read", with_secret=True)
    _, (other_read,), _ = await new_api(pool, "read")
    registered = await make_client(pool, redirect_uris=(REDIRECT_URI,),
                                   scope=f"openid offline_access {read} {other_read}")
    user = await make_user(pool, suite, password=PASSWORD)
    mine = await tokens_for(suite, registered, user, f"openid offline_access {read}")
    theirs = await tokens_for(suite, registered, user, other_read)
    api_id, api_secret = record.api.client_id, record.client_secret
    seen = await introspect(suite, api_id, api_secret, mine["access_token"])
    assert seen["active"] is True and seen["client_id"] == registered.client_id
    assert seen["aud"] == [identifier, suite.userinfo_audience]  # an OpenID request's: userinfo takes it too
    assert await introspect(suite, api_id, api_secret, theirs["access_token"]) == {"active": False}
    assert await introspect(suite, api_id, api_secret, mine["refresh_token"]) == {"active": False}
    # The client's own rule still holds.
    own = await introspect(suite, registered.client_id, present(registered.secret), theirs["access_token"])
    assert own["active"] is True
    async with aiohttp.ClientSession() as http:
        wrong = await http.post(f"{suite.token_url}/introspect", data={"token": mine["access_token"]},
                                headers={"Authorization": basic(api_id, "wrong")})
        assert (wrong.status, (await wrong.json())["error"]) == (401, "invalid_client")


ORDERS_REDIS = web.AppKey("orders_redis", Redis)


def orders_api(suite, metadata: dict[str, Any], identifier: str, tag: str) -> web.Application:
    """The tiny API of the README: the shipped verifier with the API's identifier as audience,
    checking revocation in the server's Redis (the deny list a disable writes to)."""

    @require_scope(f"orders{tag}:read")
    async def list_orders(request: web.Request) -> web.Response:
        seen = request[ACCESS_TOKEN]
        return web.json_response({"sub": seen.subject, "aud": seen.claims["aud"], "scope": sorted(seen.scopes)})

    @require_scope(f"orders{tag}:admin")
    async def admin(request: web.Request) -> web.Response:
        return web.json_response({})

    async def redis(app: web.Application) -> AsyncIterator[None]:
        app[ORDERS_REDIS] = create_redis(suite)
        yield
        await app[ORDERS_REDIS].aclose()

    app = web.Application(middlewares=[bearer_error_middleware, bearer_middleware()])
    app.cleanup_ctx.append(redis)
    app.cleanup_ctx.append(bearer_context(BearerConfig(issuer=suite.issuer, audience=identifier,
                                                       jwks_url=metadata["jwks_uri"], redis_prefix=suite.redis_prefix),
                                          redis_key=ORDERS_REDIS))
    app.router.add_get("/orders", list_orders)
    app.router.add_get("/admin", admin)
    return app


async def test_own_api_end_to_end_with_authlib_and_the_shipped_verifier(suite, pool, test_env):
    """`latchkey api create` -> client for it -> Authlib flow with resource= -> a protected handler;
    then `latchkey user disable`: the refresh token and the access token are refused."""
    tag = secrets.token_hex(3)
    identifier = f"https://orders-{tag}.example.com"
    env = {**test_env, "PATH": "/usr/bin:/bin"}
    created = await run_latchkey(env, "api", "create", "--identifier", identifier, "--name", "Orders",
                                 "--scope", f"orders{tag}:read=Read your orders",
                                 "--scope", f"orders{tag}:write=Place orders", "--json")
    assert created.code == 0, created.stderr
    client = await run_latchkey(env, "client", "create", "--name", "Shop", "--redirect-uri", REDIRECT_URI,
                                "--scope", "openid offline_access", "--api", identifier, "--json")
    assert client.code == 0, client.stderr
    registered = json.loads(client.stdout)
    user = await make_user(pool, suite, password=PASSWORD)

    async with aiohttp.ClientSession() as http:
        metadata = await (await http.get(f"{suite.issuer}/.well-known/openid-configuration")).json()
    notes_like = web.Application(middlewares=[bearer_error_middleware, bearer_middleware()])
    notes_like.cleanup_ctx.append(bearer_context(BearerConfig(issuer=suite.issuer, audience=suite.access_audience,
                                                              jwks_url=metadata["jwks_uri"], check_revocation=False)))

    async def anything(request: web.Request) -> web.Response:
        return web.json_response({})

    notes_like.router.add_get("/orders", anything)
    port, other_port = free_port(), free_port()
    granted = ["offline_access", "openid", f"orders{tag}:read", f"orders{tag}:write"]
    async with AsyncOAuth2Client(client_id=registered["client_id"], client_secret=registered["client_secret"],
                                 scope=f"openid offline_access orders{tag}:read orders{tag}:write",
                                 redirect_uri=REDIRECT_URI, code_challenge_method="S256") as oauth, \
            serving(orders_api(suite, metadata, identifier, tag), port), serving(notes_like, other_port), \
            aiohttp.ClientSession() as http:
        verifier = generate_token(48)
        url, state = oauth.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier,
                                                    resource=identifier)
        callback = await browser_logs_in_and_consents(url, user.username)
        token = await oauth.fetch_token(metadata["token_endpoint"], authorization_response=callback, state=state,
                                        code_verifier=verifier, resource=identifier)

        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        ok = await http.get(f"http://127.0.0.1:{port}/orders", headers=bearer)
        assert ok.status == 200
        assert await ok.json() == {"sub": str(user.id), "aud": [identifier, suite.userinfo_audience], "scope": granted}
        assert (await http.get(f"http://127.0.0.1:{port}/admin", headers=bearer)).status == 403
        # Another API (the notes audience) refuses it: aud is checked.
        assert (await http.get(f"http://127.0.0.1:{other_port}/orders", headers=bearer)).status == 401
        # The refresh token works, and its access token is for the same API.
        token = await oauth.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        refreshed = await http.get(f"http://127.0.0.1:{port}/orders", headers=bearer)
        assert (refreshed.status, (await refreshed.json())["aud"]) == (200, [identifier, suite.userinfo_audience])

        disabled = await run_latchkey(env, "user", "disable", user.username, "--json")
        assert disabled.code == 0, disabled.stderr
        with pytest.raises(OAuthError) as refused:
            await oauth.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
        assert refused.value.error == "invalid_grant"
        denied = await http.get(f"http://127.0.0.1:{port}/orders", headers=bearer)
        assert denied.status == 401
        challenge = denied.headers["WWW-Authenticate"]
        assert 'error="invalid_token"' in challenge and "revoked" in challenge, challenge
