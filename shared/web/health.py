"""/healthz (the process answers) and /readyz (PostgreSQL and Redis answered the background
probe recently; see shared.web.readiness). Neither waits on a store: both answer at once."""

from __future__ import annotations

from aiohttp import web

from shared.web.readiness import READINESS


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    results = request.app[READINESS].status()
    ok = all(results.values())
    return web.json_response({"status": "ok" if ok else "unavailable",
                              **{name: "ok" if up else "down" for name, up in results.items()}},
                             status=200 if ok else 503)
