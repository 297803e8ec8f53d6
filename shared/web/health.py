"""/healthz (the process answers) and /readyz (PostgreSQL and Redis answered the background
probe recently and the process is not stopping; see shared.web.readiness). Neither waits on a
store: both answer at once."""

from __future__ import annotations

from aiohttp import web

from shared.web.readiness import READINESS
from shared.web.request_context import note_error


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    readiness = request.app[READINESS]
    results = readiness.status()
    ok = all(results.values()) and not readiness.draining
    status = "draining" if readiness.draining else "ok" if ok else "unavailable"
    if not ok:  # the access line says why, not server_error
        note_error(request, "temporarily_unavailable", "draining" if readiness.draining else "not_ready")
    return web.json_response({"status": status,
                              **{name: "ok" if up else "down" for name, up in results.items()}},
                             status=200 if ok else 503)
