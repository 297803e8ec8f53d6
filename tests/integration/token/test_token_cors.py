"""CORS on the token service (per-client ``allowed_cors_origins``) over the real PostgreSQL and Redis.

Each test registers clients with origins of its own, then starts a token app (so the cached
set of every client's origins is read after they exist).
"""

from __future__ import annotations

import asyncio
import secrets
import time

import pytest

from shared.management.backends import Backends
from shared.management.clients import ClientUpdate, update
from tests.integration.token.helpers import code_form, issue_code, post_form, running
from tests.support.factories import make_client

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}


def new_origin(label: str) -> str:
    return f"https://{label}-{secrets.token_hex(4)}.example"


@pytest.fixture
async def origins():
    return {"spa": new_origin("spa"), "other": new_origin("other"), "stranger": new_origin("stranger")}


@pytest.fixture
async def spa(pool, origins):
    """A public browser client allowed on its own origin only."""
    return await make_client(pool, public=True, name="SPA", cors_origins=(origins["spa"],))


@pytest.fixture
async def other(pool, origins):
    """Another client, allowed on another origin."""
    return await make_client(pool, public=True, name="Other SPA", cors_origins=(origins["other"],))


@pytest.fixture
async def http(settings, spa, other):
    async with running(settings) as client:
        yield client


def cors_of(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


@pytest.mark.parametrize("path", ["/token", "/revoke"])
async def test_preflight_from_an_allowed_origin_is_answered_without_authentication(http, origins, path):
    response = await http.options(path, headers={"Origin": origins["spa"], **PREFLIGHT})
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == origins["spa"]
    assert response.headers["Access-Control-Allow-Methods"] == "POST"
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers  # no cookies here


@pytest.mark.parametrize("path", ["/token", "/revoke"])
async def test_preflight_from_a_disallowed_origin_gets_no_cors_headers(http, origins, path):
    response = await http.options(path, headers={"Origin": origins["stranger"], **PREFLIGHT})
    assert response.status == 204
    assert cors_of(response) == {}


async def test_preflight_allows_an_origin_of_any_client(http, origins):
    """It names no client: the other client's origin passes the preflight (its POST is checked)."""
    response = await http.options("/token", headers={"Origin": origins["other"], **PREFLIGHT})
    assert response.headers["Access-Control-Allow-Origin"] == origins["other"]


async def test_plain_options_is_not_a_preflight(http):
    response = await http.options("/token")
    assert response.status == 204
    assert response.headers["Allow"] == "POST, OPTIONS"
    assert cors_of(response) == {}


async def test_code_exchange_from_the_clients_origin_is_readable(http, redis, settings, spa, user, origins):
    issued = await issue_code(redis, settings, spa, user, scope="openid")
    response = await exchange_from(http, spa, issued, origins["spa"])
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == origins["spa"]
    assert "Origin" in response.headers["Vary"]
    assert "WWW-Authenticate" in response.headers["Access-Control-Expose-Headers"]
    assert "access_token" in await response.json()


async def exchange_from(http, client, issued, origin):
    return await post_form(http, "/token", client, code_form(issued), headers={"Origin": origin})


async def test_another_clients_origin_cannot_read_this_clients_tokens(http, redis, settings, spa, user, origins):
    issued = await issue_code(redis, settings, spa, user, scope="openid")
    response = await exchange_from(http, spa, issued, origins["other"])
    assert response.status == 200  # the server cannot stop a request; the browser hides the answer
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Origin" in response.headers["Vary"]


async def test_errors_from_an_allowed_origin_are_readable(http, redis, settings, spa, user, origins):
    issued = await issue_code(redis, settings, spa, user, scope="openid")
    assert (await exchange_from(http, spa, issued, origins["spa"])).status == 200
    replay = await exchange_from(http, spa, issued, origins["spa"])
    assert replay.status == 400
    assert (await replay.json())["error"] == "invalid_grant"
    assert replay.headers["Access-Control-Allow-Origin"] == origins["spa"]


async def test_unknown_client_error_is_readable_from_a_registered_origin_only(http, origins):
    form = {"grant_type": "authorization_code", "code": "x", "client_id": "lk_no_such_client"}
    allowed = await http.post("/token", data=form, headers={"Origin": origins["spa"]})
    assert allowed.status == 401
    assert (await allowed.json())["error"] == "invalid_client"
    assert allowed.headers["Access-Control-Allow-Origin"] == origins["spa"]
    stranger = await http.post("/token", data=form, headers={"Origin": origins["stranger"]})
    assert stranger.status == 401
    assert "Access-Control-Allow-Origin" not in stranger.headers


async def test_malformed_request_error_is_readable(http, origins):
    response = await http.post("/token", data="grant_type=x", headers={"Origin": origins["spa"],
                                                                      "Content-Type": "text/plain"})
    assert response.status == 400
    assert response.headers["Access-Control-Allow-Origin"] == origins["spa"]


async def test_revocation_is_readable_from_the_clients_origin_only(http, spa, origins):
    allowed = await post_form(http, "/revoke", spa, {"token": "whatever"}, headers={"Origin": origins["spa"]})
    assert allowed.status == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == origins["spa"]
    other = await post_form(http, "/revoke", spa, {"token": "whatever"}, headers={"Origin": origins["other"]})
    assert other.status == 200
    assert "Access-Control-Allow-Origin" not in other.headers


async def test_introspection_has_no_cors(http, pool, origins):
    confidential = await make_client(pool, cors_origins=(origins["spa"],))
    preflight = await http.options("/introspect", headers={"Origin": origins["spa"], **PREFLIGHT})
    assert cors_of(preflight) == {}
    response = await post_form(http, "/introspect", confidential, {"token": "x"}, headers={"Origin": origins["spa"]})
    assert response.status == 200
    assert cors_of(response) == {}


async def test_jwks_is_public(http, origins):
    response = await http.get("/jwks", headers={"Origin": origins["stranger"]})
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = await http.options("/jwks", headers={"Origin": origins["stranger"],
                                                     "Access-Control-Request-Method": "GET"})
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET"


async def test_an_origin_added_by_update_is_allowed_within_a_poll(http, pool, redis, settings, spa):
    late = new_origin("late")
    response = await http.options("/token", headers={"Origin": late, **PREFLIGHT})
    assert "Access-Control-Allow-Origin" not in response.headers  # the set of origins is now cached
    await update(Backends(pool, redis, settings), spa.client_id, ClientUpdate(cors_origins=(late,)))
    deadline = time.monotonic() + 5
    while True:
        response = await http.options("/token", headers={"Origin": late, **PREFLIGHT})
        if response.headers.get("Access-Control-Allow-Origin") == late:
            break
        assert time.monotonic() < deadline, "the change was not seen within 5 s"
        await asyncio.sleep(0.1)


async def test_never_on_a_path_without_a_rule(http, origins):
    response = await http.get("/healthz", headers={"Origin": origins["spa"]})
    assert cors_of(response) == {}
