"""/healthz (the process answers) and /readyz (PostgreSQL and Redis answer, a key is loaded)."""

from __future__ import annotations

from aiohttp import web

from services.token.app_keys import KEY_CACHE
from shared.web import health

__all__ = ["healthz", "readyz"]

healthz = health.healthz


async def readyz(request: web.Request) -> web.Response:
    if not request.app[KEY_CACHE].kids:
        return web.json_response({"status": "unavailable", "signing_key": "missing"}, status=503)
    return await health.readyz(request)
