"""Users: ``GET /admin/v1/users`` and ``GET /admin/v1/users/{username}`` (never a password hash).
The writes (create, update, disable, enable, set-password, delete) call ``shared.management.users``
and join this module once those operations exist."""

from __future__ import annotations

from aiohttp import web

from services.admin import readers
from services.admin.app_keys import POOL, SETTINGS
from services.admin.core.pagination import page_of, page_request
from services.admin.inputs import path_value, query

USERS_PATH = "/admin/v1/users"
USER_PATH = USERS_PATH + "/{username}"


async def list_users(request: web.Request) -> web.Response:
    query(request, ("limit", "cursor"))
    wanted = page_request(request, request.app[SETTINGS], str)
    after = None if wanted.after is None else str(wanted.after)
    rows = await readers.list_users(request.app[POOL], after=after, limit=wanted.limit + 1)
    return web.json_response(page_of(rows, wanted, key=lambda u: u.username).to_json(readers.user_json))


async def show_user(request: web.Request) -> web.Response:
    query(request, ())
    user = await readers.show_user(request.app[POOL], path_value(request, "username"))
    return web.json_response(readers.user_json(user))
