"""The admin API's rate limits, for real: an admin service of its own with small limits, its
GCRA buckets in the run's Redis. Each admin token has its own budget; requests without a valid
token are limited per client address, and an address past that limit is refused even with a
right token; over a limit the answer is a 429 problem with Retry-After."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest

from services.admin.app import create_app
from services.admin.app_keys import POOL
from shared.management import admin_tokens
from tests.integration.admin.conftest import problem
from tests.integration.resource.serving import RunningApp
from tests.support.secrets import register

PER_TOKEN = 60  # a minute's budget; GCRA lets it through at once, then one a second
FAILURES_PER_ADDRESS = 3


@dataclass(frozen=True)
class Limited:
    url: str
    pool: asyncpg.Pool

    async def token(self, *, read_only: bool = False) -> str:
        """A new admin token: a budget of its own."""
        async with self.pool.acquire() as conn:
            created = await admin_tokens.create(conn, f"t-{secrets.token_hex(4)}", read_only=read_only)
        register(created.token)
        return created.token


@pytest.fixture(scope="module")
async def limited(settings, admin_db) -> AsyncIterator[Limited]:
    # Behind a (pretend) gateway on loopback, so X-Forwarded-For gives each test its own address.
    changed = dataclasses.replace(
        settings, database_url=admin_db, db_pool_min=1, db_pool_max=4,
        redis_prefix=f"{settings.redis_prefix}admin-rl-{secrets.token_hex(3)}:",
        admin_rate_limit_token=PER_TOKEN, admin_rate_limit_ip_failures=FAILURES_PER_ADDRESS,
        trusted_proxies=(ipaddress.ip_network("127.0.0.0/8"),))
    async with RunningApp(create_app(changed)) as running:
        yield Limited(running.url, running.app[POOL])


def headers(token: str | None, address: str) -> dict[str, str]:
    found = {"X-Forwarded-For": address}
    return found if token is None else {**found, "Authorization": f"Bearer {token}"}


async def status_of(http, limited: Limited, token: str | None, address: str, path: str = "/admin/v1/apis") -> int:
    async with http.get(limited.url + path, headers=headers(token, address)) as response:
        return int(response.status)


async def test_each_admin_token_has_its_own_budget_and_gets_it_back(limited, http):
    first, second = await limited.token(), await limited.token(read_only=True)
    address = "198.51.100.1"
    statuses = [await status_of(http, limited, first, address) for _ in range(PER_TOKEN)]
    assert statuses == [200] * PER_TOKEN
    async with http.get(limited.url + "/admin/v1/apis", headers=headers(first, address)) as response:
        refused = await problem(response, 429)
        retry_after = int(response.headers["Retry-After"])
    assert refused["type"] == "urn:latchkey:problem:rate-limited" and refused["title"] == "Too Many Requests"
    assert 1 <= retry_after <= 2 and f"retry after {retry_after} s" in refused["detail"]
    # Another token from the same address is not held back, nor are the health checks.
    assert await status_of(http, limited, second, address) == 200
    assert await status_of(http, limited, None, address, "/healthz") == 200
    await asyncio.sleep(retry_after + 0.1)
    assert await status_of(http, limited, first, address) == 200


async def test_an_address_guessing_tokens_is_limited_even_with_a_right_one(limited, http):
    right = await limited.token()
    guesser, bystander = "203.0.113.7", "203.0.113.8"
    for guess in range(FAILURES_PER_ADDRESS):
        async with http.get(limited.url + "/admin/v1/apis",
                            headers=headers(f"lka_guess{guess}", guesser)) as response:
            await problem(response, 401)
    for token in ("lka_another_guess", None, right):  # past the limit, a right token changes nothing
        async with http.get(limited.url + "/admin/v1/apis", headers=headers(token, guesser)) as response:
            await problem(response, 429)
            assert int(response.headers["Retry-After"]) >= 1
    # The same token from another address is let in: the address was limited, not the token.
    assert await status_of(http, limited, right, bystander) == 200
