"""The token service after a Redis or PostgreSQL restart: requests succeed as soon as the
server answers again, however many pooled connections the restart left dead.

Each test runs the token app against a private server (tests.support.restartable) on a spare
port, fills its pool with a burst, kills and restarts the server on the same port, and sends a
second burst the moment the server answers: every request of it must succeed.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import asyncpg
import pytest
from redis.asyncio import Redis

from shared.db import create_pool
from shared.migrate import migrate
from tests.integration.token.helpers import IssuedCode, error_of, exchange, issue_code, refresh, running
from tests.support.factories import make_client, make_user
from tests.support.restartable import RestartablePostgres, private_postgres, private_redis

BURST = 48  # the issue's burst: 45 of these 48 failed before the client retried


async def issued_codes(redis_url: str, settings, client, user, count: int) -> list[IssuedCode]:
    """Codes written by a client of its own (as the authorize service would), not the app's pool."""
    writer = Redis.from_url(redis_url)
    try:
        return [await issue_code(writer, settings, client, user, scope="openid notes:read") for _ in range(count)]
    finally:
        await writer.aclose()


async def exchange_burst(http, client, codes) -> list[int]:
    responses = await asyncio.gather(*(exchange(http, client, code) for code in codes))
    return [r.status for r in responses]


async def test_a_burst_right_after_a_redis_restart_succeeds(settings, pool, app_client, user):
    with private_redis() as server:
        fast = dataclasses.replace(settings, redis_url=server.url, max_concurrent_requests=1000,
                               min_concurrent_requests=1000)  # none shed
        async with running(fast) as http:
            before = await issued_codes(server.url, fast, app_client, user, BURST)
            # The pool now holds many connections, all of which the restart kills.
            assert await exchange_burst(http, app_client, before) == [200] * BURST
            server.restart()  # returns once the new server answers PING
            after = await issued_codes(server.url, fast, app_client, user, BURST)
            statuses = await exchange_burst(http, app_client, after)
    assert statuses == [200] * BURST, f"{statuses.count(503)} of {BURST} got 503"


async def migrated_clients(dsn: str, settings):
    """Migrates the private server's database; a client and a user in it."""
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    own = await create_pool(settings)
    try:
        return await make_client(own), await make_user(own, settings)
    finally:
        await own.close()


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[RestartablePostgres]:
    """One private PostgreSQL for the module (initdb takes seconds); each test restarts it."""
    with private_postgres() as server:
        yield server


@pytest.mark.parametrize("asked_while_down", [False, True],
                         ids=["no request while down", "a request while down answers 503"])
async def test_a_burst_right_after_a_postgresql_restart_succeeds(settings, redis, postgres_server,
                                                                 asked_while_down):
    server = postgres_server
    moved = dataclasses.replace(settings, database_url=server.dsn, max_concurrent_requests=1000,
                               min_concurrent_requests=1000)  # none shed
    client, person = await migrated_clients(server.dsn, moved)
    async with running(moved) as http:
        codes = [await issue_code(redis, moved, client, person) for _ in range(2 * BURST)]
        first = [await r.json() for r in await asyncio.gather(*(exchange(http, client, c) for c in codes[:BURST]))]
        assert all("refresh_token" in body for body in first)  # and the pool is full of connections
        server.stop_immediate()
        if asked_while_down:
            down = await refresh(http, client, first[0]["refresh_token"])
            assert down.status == 503 and await error_of(down) == "temporarily_unavailable"
        server.start()  # returns once it accepts connections (crash recovery done)
        statuses = [r.status for r in await asyncio.gather(
            *(refresh(http, client, f["refresh_token"]) for f in first[1:]),
            *(exchange(http, client, c) for c in codes[BURST:]))]
    assert statuses == [200] * (2 * BURST - 1), f"{len([s for s in statuses if s != 200])} failed: {statuses}"
