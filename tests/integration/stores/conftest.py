"""Fixtures of the store tests: a private database for signing keys, a Redis prefix per test."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest

from shared.config import Settings
from shared.db import connect
from tests.support.databases import fresh_database


@pytest.fixture
async def keys_settings(server_urls, settings: Settings) -> AsyncIterator[Settings]:
    """Settings pointing at a new migrated database: the one-active-key rule is global state."""
    async with fresh_database(server_urls[0]) as url:
        yield dataclasses.replace(settings, database_url=url)


@pytest.fixture
async def keys_conn(keys_settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(keys_settings)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def prefix(redis_prefix: str) -> str:
    """A key prefix of this test's own under the run's prefix (removed with it at the end)."""
    return f"{redis_prefix}{secrets.token_hex(4)}:"
