"""Admin tokens over the API: list them (never their values) and revoke one at once.

Creating a token stays a CLI command (``latchkey admin-token create``): whoever mints admin
access must already hold the database, not merely another admin token.
"""

from __future__ import annotations

from aiohttp import web

from services.admin.app_keys import POOL, SETTINGS
from services.admin.core.pagination import page_of, page_request
from services.admin.inputs import acting, path_value, query
from shared.management import admin_tokens

ADMIN_TOKENS_PATH = "/admin/v1/admin-tokens"
ADMIN_TOKEN_PATH = ADMIN_TOKENS_PATH + "/{name}"


async def list_admin_tokens(request: web.Request) -> web.Response:
    query(request, ("limit", "cursor"))
    wanted = page_request(request, request.app[SETTINGS], int)
    after = None if wanted.after is None else int(wanted.after)
    rows = await admin_tokens.list_tokens(request.app[POOL], after=after, limit=wanted.limit + 1)
    page = page_of(rows, wanted, key=lambda row: row[0])
    return web.json_response(page.to_json(lambda row: row[1].to_json()))


async def revoke_admin_token(request: web.Request) -> web.Response:
    query(request, ())
    async with request.app[POOL].acquire() as conn:
        token = await admin_tokens.revoke(conn, path_value(request, "name"), by=acting(request))
    return web.json_response(token.to_json())
