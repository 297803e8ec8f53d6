"""The cleanup_ctx generators every service opens first: the PostgreSQL pool and the Redis client.

Each opens at start, in order, and closes in reverse at shutdown (aiohttp ``cleanup_ctx``);
nothing is connected at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from shared.db import create_pool
from shared.redis_client import create_redis
from shared.web.app_keys import METRICS, POOL, REDIS, SETTINGS


async def postgres(app: web.Application) -> AsyncIterator[None]:
    app[POOL] = await create_pool(app[SETTINGS])
    try:
        yield
    finally:
        await app[POOL].close()


async def redis(app: web.Application) -> AsyncIterator[None]:
    settings, metrics = app[SETTINGS], app.get(METRICS)
    observer = None
    if metrics is not None and (settings.metrics_enabled or metrics.redis_tracer is not None):
        observer = metrics.redis_observer()
    app[REDIS] = create_redis(settings, observer)
    try:
        yield
    finally:
        await app[REDIS].aclose()
