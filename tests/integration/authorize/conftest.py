"""Fixtures for the authorize service over real PostgreSQL and Redis.

Each test's app gets a Redis prefix of its own (under the run's prefix, so the session
``redis`` fixture still cleans it up): throttling counters, sessions and transactions never
leak from one test into the next.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from services.authorize.app import create_app
from shared.config import Settings
from shared.models import AuthorizationGrant, CodeUse, User
from shared.stores.redis_codes import RedisCodeStore
from tests.support.factories import RegisteredClient, make_client, make_user
from tests.support.flows import authorize_as_browser
from tests.support.typed import AppClient

CALLBACK = "https://app.example/callback"
PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class TestUser:
    __test__ = False  # not a test class, despite the name

    record: User
    password: str

    @property
    def username(self) -> str:
        return self.record.username

    @property
    def id(self) -> str:
        return str(self.record.id)


@pytest.fixture
def app_settings(settings: Settings, redis) -> Settings:
    return dataclasses.replace(settings, redis_prefix=f"{settings.redis_prefix}{secrets.token_hex(4)}:")


@pytest.fixture
def make_authorize_client(aiohttp_client, app_settings: Settings) -> Callable[..., Awaitable[AppClient]]:
    """A factory: ``await make_authorize_client(require_pkce=False)`` for settings overrides."""

    async def make(**overrides) -> AppClient:
        value: AppClient = await aiohttp_client(create_app(dataclasses.replace(app_settings, **overrides)))
        return value

    return make


@pytest.fixture
async def authorize_client(make_authorize_client) -> AppClient:
    value: AppClient = await make_authorize_client()
    return value


@pytest.fixture
def codes(redis, app_settings: Settings) -> RedisCodeStore:
    return RedisCodeStore(redis, app_settings.redis_prefix)


@pytest.fixture
def take_grant(codes: RedisCodeStore) -> Callable[[str], Awaitable[AuthorizationGrant | None]]:
    """Consumes a code the way the token service will, returning what it stood for."""

    async def take(code: str) -> AuthorizationGrant | None:
        return await codes.consume(code, CodeUse(grant_id="test", access_jti="test", access_expires_at=0), 60)

    return take


@pytest.fixture
async def user(pool, settings: Settings) -> TestUser:
    return TestUser(await make_user(pool, settings, password=PASSWORD), PASSWORD)


@pytest.fixture
async def web_app(pool) -> RegisteredClient:
    """A confidential client with one registered redirect URI."""
    return await make_client(pool, redirect_uris=(CALLBACK,), name="Photo Printer")


@pytest.fixture
async def spa(pool) -> RegisteredClient:
    """A public client (no secret): PKCE is mandatory."""
    return await make_client(pool, redirect_uris=("http://127.0.0.1:5173/cb",), public=True, name="Notes SPA")


@pytest.fixture
async def signed_in(authorize_client, params, user):
    """The browser has signed in and consented once to the module's ``params``."""
    await authorize_as_browser(authorize_client, params, username=user.username, password=user.password)
    return authorize_client
