"""The token service over the run's real PostgreSQL and Redis, served by aiohttp's test server.

``http`` is one app per module with the session settings; ``start_token_app`` starts
more with changed settings (a grace period, a short issue deadline, a private database).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable

import pytest

from shared.config import Settings
from shared.models import User
from tests.integration.token.helpers import running
from tests.support.factories import RegisteredClient, make_client, make_user
from tests.support.typed import AppClient


@pytest.fixture(scope="module")
async def http(settings: Settings) -> AsyncIterator[AppClient]:
    async with running(settings) as client:
        yield client


@pytest.fixture
def start_token_app(settings: Settings) -> Callable[..., contextlib.AbstractAsyncContextManager[AppClient]]:
    def start(**overrides) -> contextlib.AbstractAsyncContextManager[AppClient]:
        return running(dataclasses.replace(settings, **overrides))

    return start


@pytest.fixture
async def user(pool, settings) -> User:
    return await make_user(pool, settings)


@pytest.fixture
async def app_client(pool) -> RegisteredClient:
    """A confidential client using client_secret_basic (the default registration)."""
    return await make_client(pool)


@pytest.fixture
async def post_client(pool) -> RegisteredClient:
    return await make_client(pool, auth_method="client_secret_post")


@pytest.fixture
async def public_client(pool) -> RegisteredClient:
    return await make_client(pool, public=True)


@pytest.fixture
async def other_client(pool) -> RegisteredClient:
    return await make_client(pool, name="Another App")
