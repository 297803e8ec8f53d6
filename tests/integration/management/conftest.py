"""The three services over the run's real PostgreSQL and Redis, and the management operations
(the functions the CLI and the admin API call) run against the same stores."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import aiohttp
import pytest

from services.token.app import create_app as create_token_app
from shared.crypto.digests import new_secret, sha256_b64url
from shared.management.backends import Backends
from shared.models import AuthorizationGrant
from shared.stores.redis_codes import RedisCodeStore
from tests.integration.resource.conftest import resource_service
from tests.integration.resource.serving import RunningApp
from tests.support.factories import RegisteredClient, make_client, make_user

REDIRECT_URI = "https://app.example/callback"
PASSWORD = "correct horse battery"
# CONTRACT: disable, delete, rotate-secret and consent revoke take effect everywhere within 5 s.
WITHIN = 5.0


@dataclass
class Suite:
    token_url: str
    resource_url: str
    http: aiohttp.ClientSession


@pytest.fixture(scope="module")
async def suite(settings) -> AsyncIterator[Suite]:
    async with RunningApp(create_token_app(settings)) as token, aiohttp.ClientSession() as http:
        async with resource_service(settings, token.url + "/jwks", check_revocation=True) as resource:
            yield Suite(token.url, resource.url, http)


@pytest.fixture
def backends(pool, redis, settings) -> Backends:
    return Backends(pool, redis, settings)


@pytest.fixture
async def client(pool) -> RegisteredClient:
    return await make_client(pool, redirect_uris=(REDIRECT_URI,))


@pytest.fixture
async def user(pool, settings):
    return await make_user(pool, settings, password=PASSWORD)


def basic(client_id: str, secret: str | None) -> dict[str, str]:
    pair = f"{quote_plus(client_id)}:{quote_plus(secret or '')}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


async def tokens(suite: Suite, redis, settings, client: RegisteredClient, user,
                 scope: str = "openid offline_access notes:read") -> dict[str, Any]:
    """A code as the authorize service leaves it, exchanged at the real /token."""
    verifier, code = new_secret(32), new_secret(32)
    grant = AuthorizationGrant(
        client_id=client.client_id, redirect_uri=REDIRECT_URI, scope=tuple(scope.split()), user_id=str(user.id),
        auth_time=int(time.time()) - 5, nonce="n-1", code_challenge=sha256_b64url(verifier),
        code_challenge_method="S256", grant_id=str(uuid.uuid4()))
    await RedisCodeStore(redis, settings.redis_prefix).save(code, grant, 60)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    async with suite.http.post(suite.token_url + "/token", data=form,
                               headers=basic(client.client_id, client.secret)) as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body


async def notes_status(suite: Suite, access_token: str) -> tuple[int, str]:
    async with suite.http.get(suite.resource_url + "/api/notes",
                              headers={"Authorization": f"Bearer {access_token}"}) as response:
        return response.status, response.headers.get("WWW-Authenticate", "")


async def refresh(suite: Suite, client_id: str, secret: str | None, refresh_token: str) -> tuple[int, dict[str, Any]]:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    async with suite.http.post(suite.token_url + "/token", data=form, headers=basic(client_id, secret)) as response:
        return response.status, await response.json()


async def eventually(check: Callable[[], Awaitable[bool]], within: float = WITHIN) -> float:
    """Seconds until ``check`` holds; fails when it does not within ``within``."""
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < within, f"not true within {within} s"
        await asyncio.sleep(0.1)
    return time.monotonic() - start


async def refused_by_resource(suite: Suite, access_token: str) -> bool:
    status, challenge = await notes_status(suite, access_token)
    return status == 401 and "revoked" in challenge
