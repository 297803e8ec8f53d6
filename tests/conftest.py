"""Session-wide real PostgreSQL and Redis for the integration tests.

Every run gets its own database (created, migrated, dropped) and its own Redis key prefix
(deleted at the end), so runs never see each other's data.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from redis.asyncio import Redis

from shared.config import Settings
from shared.db import create_pool
from shared.migrate import migrate
from shared.redis_client import create_redis
from tests.support.redis_keys import delete_prefix
from tests.support.servers import test_servers

RUN_ID = secrets.token_hex(4)

# Property tests (tests/unit/test_properties_*.py): on a laptop each run draws new examples, so
# the search keeps widening and a failure is saved in .hypothesis/ to replay; in CI the examples
# are derived from each test's name, so a red build is reproducible and never a coin toss.
# Select with HYPOTHESIS_PROFILE=ci|dev (.ci/run sets ci); a CI variable, as CI systems set it, means ci.
# No deadline and no too_slow check: on a shared, loaded machine timing says nothing about the code.
_PROPERTIES: dict[str, Any] = dict(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.register_profile("dev", **_PROPERTIES)
hypothesis_settings.register_profile("ci", **_PROPERTIES, derandomize=True, database=None, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def server_urls() -> Iterator[tuple[str, str]]:
    with test_servers() as urls:
        yield urls


@pytest.fixture(scope="session")
async def database_url(server_urls: tuple[str, str]) -> AsyncIterator[str]:
    admin_url, _ = server_urls
    name = f"latchkey_test_{RUN_ID}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(admin_url, name)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    try:
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def redis_prefix(server_urls: tuple[str, str]) -> AsyncIterator[str]:
    """This run's key prefix; its keys are removed after every fixture that uses it is gone,
    so a late write (an app shutting down, a browser's last request) is removed too."""
    prefix = f"lktest:{RUN_ID}:"
    yield prefix
    client = Redis.from_url(server_urls[1])
    try:
        await delete_prefix(client, prefix)
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def kek() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def settings_env(database_url: str, redis_url: str, prefix: str, kek: str) -> dict[str, str]:
    """The environment a service under test gets: fast argon2 so tests stay quick."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LATCHKEY_REDIS_PREFIX": prefix,
        "LATCHKEY_KEY_ENCRYPTION_KEY": kek,
        "LATCHKEY_DEV": "1",
        "LATCHKEY_ARGON2_TIME_COST": "1",
        "LATCHKEY_ARGON2_MEMORY_KIB": "1024",
        # Every test sends from 127.0.0.1 into one key prefix: per-address limits would add up
        # across unrelated tests. The rate-limit tests turn them on with their own settings.
        "LATCHKEY_RATE_LIMIT_PER_IP": "0",
        "LATCHKEY_RATE_LIMIT_AUTH_FAILURES_PER_IP": "0",
    }


@pytest.fixture(scope="session")
def test_env(database_url: str, server_urls: tuple[str, str], redis_prefix: str, kek: str) -> dict[str, str]:
    return settings_env(database_url, server_urls[1], redis_prefix, kek)


@pytest.fixture(scope="session")
def settings(test_env: dict[str, str]) -> Settings:
    return Settings.from_env(test_env)


@pytest.fixture(scope="session")
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(settings)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture(scope="session")
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = create_redis(settings)
    try:
        yield client
    finally:
        await client.aclose()
