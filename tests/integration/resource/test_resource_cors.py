"""CORS on /userinfo: readable from the origins of the client the access token was issued to.

Over a real resource service, the run's PostgreSQL (the clients) and Redis (the change watcher).
"""

from __future__ import annotations

import secrets

import pytest

from tests.integration.resource.conftest import resource_service
from tests.integration.resource.minting import bearer_header
from tests.support.factories import make_client

PREFLIGHT = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}


def new_origin(label: str) -> str:
    return f"https://{label}-{secrets.token_hex(4)}.example"


@pytest.fixture
async def origins():
    return {"spa": new_origin("spa"), "other": new_origin("other"), "stranger": new_origin("stranger")}


@pytest.fixture
async def spa(pool, origins):
    return await make_client(pool, public=True, name="SPA", cors_origins=(origins["spa"],))


@pytest.fixture
async def other(pool, origins):
    return await make_client(pool, public=True, name="Other SPA", cors_origins=(origins["other"],))


@pytest.fixture
async def userinfo_url(settings, jwks_server, spa, other):
    """A service started after the clients exist (its set of every client's origins is cached)."""
    async with resource_service(settings, jwks_server.url) as running:
        yield running.url + "/userinfo"


def cors_of(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


async def test_preflight_is_answered_without_a_token(http, userinfo_url, origins):
    async with http.options(userinfo_url, headers={"Origin": origins["spa"], **PREFLIGHT}) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == origins["spa"]
        assert response.headers["Access-Control-Allow-Methods"] == "GET, POST"
        assert response.headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
        assert response.headers["Access-Control-Max-Age"] == "600"


async def test_preflight_from_a_disallowed_origin_gets_no_cors_headers(http, userinfo_url, origins):
    async with http.options(userinfo_url, headers={"Origin": origins["stranger"], **PREFLIGHT}) as response:
        assert response.status == 204
        assert cors_of(response) == {}


async def test_the_tokens_client_origin_reads_the_claims(http, userinfo_url, user, token_for, spa, origins):
    token = token_for(user, "openid", client_id=spa.client_id)
    async with http.get(userinfo_url, headers={"Origin": origins["spa"], **bearer_header(token)}) as response:
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == origins["spa"]
        assert "Origin" in response.headers["Vary"]
        assert (await response.json())["sub"] == str(user.id)


async def test_another_clients_origin_cannot_read_them(http, userinfo_url, user, token_for, spa, origins):
    token = token_for(user, "openid", client_id=spa.client_id)
    for origin in (origins["other"], origins["stranger"]):
        async with http.get(userinfo_url, headers={"Origin": origin, **bearer_header(token)}) as response:
            assert response.status == 200
            assert "Access-Control-Allow-Origin" not in response.headers


async def test_an_invalid_token_error_is_readable_with_its_challenge(http, userinfo_url, origins):
    async with http.get(userinfo_url, headers={"Origin": origins["spa"], **bearer_header("not.a.token")}) as response:
        assert response.status == 401
        assert response.headers["Access-Control-Allow-Origin"] == origins["spa"]
        assert "WWW-Authenticate" in response.headers["Access-Control-Expose-Headers"]
    async with http.get(userinfo_url, headers={"Origin": origins["stranger"]}) as response:
        assert response.status == 401
        assert "Access-Control-Allow-Origin" not in response.headers


async def test_insufficient_scope_is_readable_by_the_tokens_client(http, userinfo_url, user, token_for, spa, origins):
    token = token_for(user, "notes:read", client_id=spa.client_id)
    async with http.get(userinfo_url, headers={"Origin": origins["spa"], **bearer_header(token)}) as response:
        assert response.status == 403
        assert response.headers["Access-Control-Allow-Origin"] == origins["spa"]


async def test_the_notes_api_has_no_cors(http, userinfo_url, user, token_for, spa, origins):
    token = token_for(user, "notes:read", client_id=spa.client_id)
    notes = userinfo_url.replace("/userinfo", "/api/notes")
    async with http.get(notes, headers={"Origin": origins["spa"], **bearer_header(token)}) as response:
        assert cors_of(response) == {}
