"""GET /healthz: the process answers (what `make run` waits for)."""

from aiohttp import web


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})
