"""/static/style.css: the one stylesheet, held in memory; its URL carries a content hash."""

from __future__ import annotations

from aiohttp import web

from services.authorize.app_keys import STYLESHEET

STYLESHEET_PATH = "/static/style.css"


async def stylesheet(request: web.Request) -> web.Response:
    # The URL changes with the content (?v=hash), so browsers may keep it for a day.
    return web.Response(body=request.app[STYLESHEET], content_type="text/css", charset="utf-8",
                        headers={"Cache-Control": "public, max-age=86400"})
