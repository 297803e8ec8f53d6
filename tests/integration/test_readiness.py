"""/readyz answers from its background probe: a saturated pool does not fail it, a stopped
store does, within one probe interval plus one timeout."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from services.resource.app import create_app
from services.resource.app_keys import POOL
from shared.devstack import spare_port, start_redis


async def test_readyz_stays_200_while_every_pooled_connection_is_busy(settings):
    app = create_app(dataclasses.replace(settings, db_pool_min=1, db_pool_max=1))
    async with TestClient(TestServer(app)) as http:
        async with app[POOL].acquire():  # the pool's only connection, held
            started = time.monotonic()
            for _ in range(5):
                response = await http.get("/readyz")
                assert response.status == 200 and (await response.json())["postgres"] == "ok"
            assert time.monotonic() - started < 1.0  # answered at once, never a pool wait


async def test_readyz_turns_503_within_its_bound_when_redis_stops(settings):
    root = Path(tempfile.mkdtemp(prefix="latchkey-readyz-"))
    try:
        redis = start_redis(root, spare_port())
        try:
            s = dataclasses.replace(settings, redis_url=redis.url)
            async with TestClient(TestServer(create_app(s))) as http:
                assert (await http.get("/readyz")).status == 200
                redis.stop()
                stopped, bound = time.monotonic(), s.ready_probe_interval + s.ready_probe_timeout + 1.5
                while (response := await http.get("/readyz")).status == 200:
                    assert time.monotonic() - stopped < bound, "still ready after Redis stopped"
                    await asyncio.sleep(0.1)
                assert response.status == 503 and await response.json() == {
                    "status": "unavailable", "postgres": "ok", "redis": "down"}
                assert response.headers["Retry-After"] == str(s.retry_after)
        finally:
            redis.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
