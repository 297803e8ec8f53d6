"""Users: ``GET /admin/v1/users`` and ``GET /admin/v1/users/{username}`` (never a password hash;
shared.management.users). The writes (create, update, disable, enable, set-password, delete) are
the same module's operations, called with ``actor=acting(request)``."""

from __future__ import annotations

from aiohttp import web

from services.admin.app_keys import BACKENDS, SETTINGS
from services.admin.core.pagination import page_of, page_request
from services.admin.inputs import path_value, query
from shared.management import users

USERS_PATH = "/admin/v1/users"
USER_PATH = USERS_PATH + "/{username}"


async def list_users(request: web.Request) -> web.Response:
    query(request, ("limit", "cursor"))
    wanted = page_request(request, request.app[SETTINGS], str)
    after = None if wanted.after is None else str(wanted.after)
    rows = await users.list_users(request.app[BACKENDS], after=after, limit=wanted.limit + 1)
    return web.json_response(page_of(rows, wanted, key=lambda r: r.user.username).to_json(lambda r: r.to_json()))


async def show_user(request: web.Request) -> web.Response:
    query(request, ())
    record = await users.show(request.app[BACKENDS], path_value(request, "username"))
    return web.json_response(record.to_json())
