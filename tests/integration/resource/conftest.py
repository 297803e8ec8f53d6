"""The resource service over the run's real PostgreSQL and Redis, trusting a JWKS served over
real HTTP on a spare port; tokens are minted with real keys (see minting.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from services.resource.app import create_app
from shared.config import Settings
from shared.models import User
from tests.integration.resource.minting import TestKey, access_claims, mint, new_key
from tests.integration.resource.serving import JwksServer, RunningApp
from tests.support.factories import make_user
from tests.support.secrets import register


@pytest.fixture(scope="session")
def signing_key() -> TestKey:
    return new_key("RS256")


@pytest.fixture(scope="session")
def ec_key() -> TestKey:
    return new_key("ES256")


@pytest.fixture(scope="session")
async def jwks_server(signing_key: TestKey, ec_key: TestKey) -> AsyncIterator[JwksServer]:
    async with JwksServer([signing_key.public_jwk, ec_key.public_jwk]) as server:
        yield server


@contextlib.asynccontextmanager
async def resource_service(settings: Settings, jwks_url: str, **changes) -> AsyncIterator[RunningApp]:
    """A fresh resource service trusting ``jwks_url``; ``changes`` override settings fields."""
    app = create_app(dataclasses.replace(settings, jwks_url=jwks_url, **changes))
    async with RunningApp(app) as running:
        yield running


@pytest.fixture(scope="session")
async def resource_url(settings: Settings, jwks_server: JwksServer) -> AsyncIterator[str]:
    async with resource_service(settings, jwks_server.url, check_revocation=True) as running:
        yield running.url


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def user(pool, settings) -> User:
    return await make_user(pool, settings, name="Ada Lovelace", email="ada@example.com")


@pytest.fixture
def token_for(settings: Settings, signing_key: TestKey) -> Callable[..., str]:
    """A valid access token for ``user`` with ``scope``; keyword arguments change claims."""

    def make(user: User, scope: str = "openid", **claims) -> str:
        token = mint(signing_key, access_claims(settings, str(user.id), scope, **claims))
        register(token)
        return token

    return make

