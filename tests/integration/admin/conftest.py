"""The admin service over a PostgreSQL database of its own (so lists and pages are exact) and
the run's Redis, served over real HTTP on a spare loopback port, with real admin tokens."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg
import pytest

from services.admin.app import create_app
from services.admin.app_keys import POOL
from shared.config import Settings
from shared.management import admin_tokens
from tests.integration.resource.serving import RunningApp
from tests.support.databases import fresh_database
from tests.support.secrets import register

PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Admin:
    url: str
    settings: Settings
    pool: asyncpg.Pool
    token: str  # read-write, named "ops"
    read_only_token: str  # named "auditor"

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}


@pytest.fixture(scope="module")
async def admin_db(server_urls: tuple[str, str]) -> AsyncIterator[str]:
    async with fresh_database(server_urls[0]) as url:
        yield url


@pytest.fixture(scope="module")
async def admin(settings: Settings, admin_db: str) -> AsyncIterator[Admin]:
    # Small pools: the machine's PostgreSQL is shared by every test run at once. No rate limits:
    # schemathesis and the refusal tests send more than a minute's budget (test_admin_rate_limits
    # runs the limits on an admin service of its own).
    admin_settings = dataclasses.replace(settings, database_url=admin_db, db_pool_min=1, db_pool_max=4,
                                         admin_rate_limit_token=0, admin_rate_limit_ip_failures=0)
    async with RunningApp(create_app(admin_settings)) as running:
        pool = running.app[POOL]  # the service's own pool: the tests read the rows it wrote
        async with pool.acquire() as conn:
            rw = await admin_tokens.create(conn, "ops")
            ro = await admin_tokens.create(conn, "auditor", read_only=True)
        register(rw.token, ro.token)
        yield Admin(running.url, admin_settings, pool, rw.token, ro.token)


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def problem(response: aiohttp.ClientResponse, status: int) -> dict[str, Any]:
    """The RFC 9457 body of an error answer, after checking its status and media type."""
    assert response.status == status, await response.text()
    assert response.content_type == PROBLEM
    body: dict[str, Any] = await response.json(content_type=PROBLEM)
    assert body["status"] == status and body["type"] and body["title"]
    return body
