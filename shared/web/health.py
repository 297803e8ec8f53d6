"""/healthz (the process answers) and /readyz (PostgreSQL and Redis answer)."""

from __future__ import annotations

import asyncio

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

READY_TIMEOUT_SECONDS = 2


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def readyz_handler(pool_key: web.AppKey[asyncpg.Pool], redis_key: web.AppKey[Redis]):
    async def readyz(request: web.Request) -> web.Response:
        checks = {"postgres": _check_postgres(request.app[pool_key]), "redis": _check_redis(request.app[redis_key])}
        results = dict(zip(checks, await asyncio.gather(*checks.values())))
        ok = all(results.values())
        return web.json_response({"status": "ok" if ok else "unavailable",
                                  **{k: "ok" if v else "down" for k, v in results.items()}},
                                 status=200 if ok else 503)

    return readyz


async def _check_postgres(pool: asyncpg.Pool) -> bool:
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            return await pool.fetchval("SELECT 1") == 1
    except Exception:
        return False


async def _check_redis(redis: Redis) -> bool:
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            return bool(await redis.ping())
    except Exception:
        return False
