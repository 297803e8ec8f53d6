"""/healthz (the process answers) and /readyz (PostgreSQL and Redis answer, a key is loaded)."""

from __future__ import annotations

from aiohttp import web

from shared.web.health import healthz, readyz_handler
from services.token.app_keys import KEY_CACHE, POOL, REDIS

__all__ = ["healthz", "readyz"]

_stores_ready = readyz_handler(POOL, REDIS)


async def readyz(request: web.Request) -> web.Response:
    if not request.app[KEY_CACHE].kids:
        return web.json_response({"status": "unavailable", "signing_key": "missing"}, status=503)
    return await _stores_ready(request)
