"""The token service's adaptive concurrency limit grows when its stores are far away.

With PostgreSQL and Redis on loopback two exchanges at once keep the event loop busy, which is
where the limit starts (shared.web.adaptive_limit). Behind a link that adds milliseconds to every
round trip, each exchange mostly waits: the loop idles while requests queue for a place, so the
limit must grow towards its maximum (8), or the service would serve a fraction of what it can.
Real processes: `latchkey serve token`, real PostgreSQL and Redis behind tests/support/slow_link.py.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import aiohttp
import pytest

from tests.bench.support import serve
from tests.support.factories import make_client, make_user
from tests.support.overload import Connections, closed_loop, percentile
from tests.support.slow_link import slow_link
from tests.support.token_overload import REDIRECT_URI, Exchanges

pytestmark = pytest.mark.overload

DELAY = 0.003  # each way, per chunk: a round trip to either store takes about 6 ms more


def _via(url: str, port: int) -> str:
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}@127.0.0.1:{port}" if userinfo else f"127.0.0.1:{port}"))


async def _limit(url: str) -> float:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
        text = await response.text()
    return float(next(line.split()[-1] for line in text.splitlines()
                      if line.startswith("latchkey_concurrency_limit ")))


async def test_stores_across_a_slow_link_grow_the_limit_and_every_request_is_served(
        test_env, pool, redis, settings, tmp_path):
    client = await make_client(pool, redirect_uris=(REDIRECT_URI,))
    user = await make_user(pool, settings)
    database, cache = urlsplit(test_env["DATABASE_URL"]), urlsplit(test_env["REDIS_URL"])
    with (slow_link(database.hostname or "127.0.0.1", database.port or 5432, DELAY) as pg_port,
          slow_link(cache.hostname or "127.0.0.1", cache.port or 6379, DELAY) as redis_port):
        env = {**test_env, "LATCHKEY_RATE_LIMIT_PER_CLIENT": "0",
               "DATABASE_URL": _via(test_env["DATABASE_URL"], pg_port),
               "REDIS_URL": _via(test_env["REDIS_URL"], redis_port)}
        with serve("token", env, log_path=tmp_path / "token.log") as token:
            assert await _limit(token.url) == 2
            load = Connections(token.url)
            try:
                exchanges = Exchanges(redis, settings, client, user, f"{load.host}:{load.port}")
                run = await closed_loop(load, await exchanges.make(1500), concurrency=8, duration=3.0)
            finally:
                load.close()
            grown = await _limit(token.url)
    served = run.with_status(200)
    print(f"\nlimit {grown:.0f}; {len(run.answers)} requests, {len(served)} served, median "
          f"{percentile([a.latency for a in served], 50) * 1000:.0f} ms")
    assert grown > 4, f"the limit stayed at {grown} while the loop idled"
    # Eight clients, as many as the limit's maximum: once it has grown none waits for a place; some of
    # those that queued while it grew (one place a 100 ms window) waited past the CoDel target.
    assert {a.status for a in run.answers} <= {200, 503} and len(served) >= 0.75 * len(run.answers)
