"""Routes that read PostgreSQL wait for one of the pool's places in order (issue 9 §5).

asyncpg's own queue lets a newcomer take a connection from a waiter it just woke, so with 64
requests on 10 connections some waited over a second (bench_resource's /api/notes, p99 1.47 s).
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from shared.config import Settings
from shared.web.errors import Handler
from shared.web.shedding import database_places_middleware

ENV = {"DATABASE_URL": "postgresql://latchkey@127.0.0.1:1/latchkey", "REDIS_URL": "redis://127.0.0.1:1/0",
       "LATCHKEY_DEV": "1", "LATCHKEY_KEY_ENCRYPTION_KEY": "A" * 43,
       "LATCHKEY_DB_POOL_MIN": "1", "LATCHKEY_DB_POOL_MAX": "2", "LATCHKEY_REQUEST_QUEUE_WAIT_MS": "5000"}


def app_recording(started: list[str], busy: list[int], release: asyncio.Event) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        started.append(request.query["n"])
        busy.append(busy[-1] + 1)
        await release.wait()
        busy.append(busy[-1] - 1)
        return web.Response(text="ok")

    return _app(handler)


def _app(handler: Handler) -> web.Application:
    app = web.Application(middlewares=[database_places_middleware(Settings.from_env(ENV), prefixes=("/api/notes",),
                                                                  default_limit=64)])
    app.router.add_get("/api/notes", handler)
    app.router.add_get("/userinfo", handler)
    return app


async def test_at_most_the_pool_size_work_at_once_and_the_rest_start_in_arrival_order(aiohttp_client):
    started: list[str] = []
    busy, release = [0], asyncio.Event()
    client = await aiohttp_client(app_recording(started, busy, release))
    requests = []
    for n in range(6):
        requests.append(asyncio.create_task(client.get(f"/api/notes?n={n}")))
        await asyncio.sleep(0.02)  # arrive one after another
    assert started == ["0", "1"]  # two places: LATCHKEY_DB_POOL_MAX
    release.set()
    answers = await asyncio.gather(*requests)
    assert [a.status for a in answers] == [200] * 6
    assert started == ["0", "1", "2", "3", "4", "5"]
    assert max(busy) == 2


async def test_other_routes_do_not_wait_for_a_database_place(aiohttp_client):
    started: list[str] = []
    busy, release = [0], asyncio.Event()
    client = await aiohttp_client(app_recording(started, busy, release))
    requests = [asyncio.create_task(client.get(f"/userinfo?n={n}")) for n in range(5)]
    for _ in range(100):
        await asyncio.sleep(0.01)
        if len(started) == 5:
            break
    assert max(busy) == 5
    release.set()
    assert [a.status for a in await asyncio.gather(*requests)] == [200] * 5


async def test_admitted_requests_wait_their_turn_however_long_the_queue_stands(aiohttp_client):
    """The service's own limit sheds for overload; a queue for the pool's places that stands (as
    64 clients on 10 connections make it) is no reason to refuse a request already admitted."""
    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(0.02)  # each place held longer than the overload target (10 ms)
        return web.Response(text="ok")

    client = await aiohttp_client(_app(handler))
    # 2 places, 24 requests: the last wait about 220 ms, every one after the first two waits over
    # the target, for longer than CoDel's 100 ms interval: a standing queue.
    answers = await asyncio.gather(*(client.get(f"/api/notes?n={n}") for n in range(24)))
    assert [a.status for a in answers] == [200] * 24
