"""``GET /admin/v1/openapi.json``: the OpenAPI 3.1 document of this API (services.admin.core.openapi)."""

from __future__ import annotations

from aiohttp import web

from services.admin.app_keys import SETTINGS
from services.admin.core.openapi import document
from services.admin.inputs import query

OPENAPI_PATH = "/admin/v1/openapi.json"


async def openapi(request: web.Request) -> web.Response:
    query(request, ())
    return web.json_response(document(request.app[SETTINGS]))
