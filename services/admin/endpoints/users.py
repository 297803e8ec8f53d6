"""Users (shared.management.users): list, show, create, update, disable, enable, set the password,
delete. A user's remembered consents are in services.admin.endpoints.consents.

A password arrives only in a request body, goes to the operation (which hashes it) and nowhere
else: no answer, error detail or log line holds it. A user record never holds a password hash.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from services.admin.app_keys import BACKENDS, SETTINGS
from services.admin.core.fields import clearable_string, string
from services.admin.core.pagination import page_of, page_request
from services.admin.inputs import acting, json_object, path_value, query
from shared.management import users

USERS_PATH = "/admin/v1/users"
USER_PATH = USERS_PATH + "/{username}"
DISABLE_PATH = USER_PATH + "/disable"
ENABLE_PATH = USER_PATH + "/enable"
PASSWORD_PATH = USER_PATH + "/password"

NEW_USER = ("username", "password", "email", "name")
PROFILE = ("email", "name")


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


async def create_user(request: web.Request) -> web.Response:
    query(request, ())
    body = await json_object(request, NEW_USER)
    record = await users.create(
        request.app[BACKENDS], string(body, "username", required=True) or "",
        string(body, "password", required=True) or "", email=clearable_string(body, "email") or None,
        name=clearable_string(body, "name") or None, actor=acting(request))
    return web.json_response(record.to_json(), status=201,
                             headers={"Location": f"{USERS_PATH}/{quote(record.user.username, safe='')}"})


async def update_user(request: web.Request) -> web.Response:
    """``email`` and ``name``; null or "" clears one (a changed email is no longer verified)."""
    query(request, ())
    username = path_value(request, "username")
    body = await json_object(request, PROFILE)
    record = await users.update(request.app[BACKENDS], username, email=clearable_string(body, "email"),
                                name=clearable_string(body, "name"), actor=acting(request))
    return web.json_response(record.to_json())


async def disable_user(request: web.Request) -> web.Response:
    """Ends the user's sessions, revokes their refresh tokens, refuses their access tokens."""
    query(request, ())
    record = await users.set_disabled(request.app[BACKENDS], path_value(request, "username"), True,
                                      actor=acting(request))
    return web.json_response(record.to_json())


async def enable_user(request: web.Request) -> web.Response:
    query(request, ())
    record = await users.set_disabled(request.app[BACKENDS], path_value(request, "username"), False,
                                      actor=acting(request))
    return web.json_response(record.to_json())


async def set_password(request: web.Request) -> web.Response:
    query(request, ())
    username = path_value(request, "username")
    password = string(await json_object(request, ("password",)), "password", required=True) or ""
    record = await users.set_password(request.app[BACKENDS], username, password, actor=acting(request))
    return web.json_response(record.to_json())


async def delete_user(request: web.Request) -> web.Response:
    """Deletes the user with their consents and refresh tokens; answers the record as it was."""
    query(request, ())
    record = await users.delete(request.app[BACKENDS], path_value(request, "username"), actor=acting(request))
    return web.json_response(record.to_json())
