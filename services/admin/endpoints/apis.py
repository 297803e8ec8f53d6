"""APIs (resource servers, RFC 8707; shared.management.apis): list, show, create, update, delete.

An API is named in the path by its identifier, percent-encoded as one segment (Auth0's
resource-server API does the same): ``/admin/v1/apis/https%3A%2F%2Forders.example.com``.
Credentials made with ``with_secret`` are in the create answer only. Update and delete change
clients too (a removed scope leaves their allowed scopes, a forced delete unlinks them), so
after those every service is told that clients changed.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from services.admin.app_keys import BACKENDS, POOL, SETTINGS
from services.admin.core import api_bodies
from services.admin.core.pagination import page_of, page_request
from services.admin.core.problems import bad_parameter
from services.admin.inputs import acting, json_object, path_value, query
from shared.management import apis

APIS_PATH = "/admin/v1/apis"
API_PATH = APIS_PATH + "/{identifier}"


def location(identifier: str) -> str:
    return f"{APIS_PATH}/{quote(identifier, safe='')}"


async def list_apis(request: web.Request) -> web.Response:
    query(request, ("limit", "cursor"))
    wanted = page_request(request, request.app[SETTINGS], str)
    after = None if wanted.after is None else str(wanted.after)
    async with request.app[POOL].acquire() as conn:
        rows = await apis.page_apis(conn, after=after, limit=wanted.limit + 1)
    return web.json_response(page_of(rows, wanted, key=lambda r: r.api.identifier).to_json(lambda r: r.to_json()))


async def show_api(request: web.Request) -> web.Response:
    query(request, ())
    async with request.app[POOL].acquire() as conn:
        record = await apis.show_api(conn, path_value(request, "identifier"))
    return web.json_response(record.to_json())


async def create_api(request: web.Request) -> web.Response:
    query(request, ())
    spec = api_bodies.new_api(await json_object(request, api_bodies.NEW_API))
    async with request.app[POOL].acquire() as conn:
        record = await apis.create_api(conn, identifier=spec.identifier, name=spec.name, scopes=spec.scopes,
                                       access_token_ttl=spec.access_token_ttl, with_secret=spec.with_secret,
                                       dev_mode=request.app[SETTINGS].dev_mode, actor=acting(request))
    return web.json_response(record.to_json(), status=201, headers={"Location": location(record.api.identifier)})


async def update_api(request: web.Request) -> web.Response:
    query(request, ())
    identifier = path_value(request, "identifier")
    change = api_bodies.api_change(await json_object(request, api_bodies.API_CHANGE))
    async with request.app[POOL].acquire() as conn:
        record = await apis.update_api(conn, identifier, actor=acting(request), **change)
    await request.app[BACKENDS].clients_changed()
    return web.json_response(record.to_json())


async def delete_api(request: web.Request) -> web.Response:
    """``?force=true`` unlinks the clients that use it; either way its tokens are revoked."""
    force = query(request, ("force",)).get("force", "false")
    if force not in ("true", "false"):
        raise bad_parameter("force must be true or false")
    backends = request.app[BACKENDS]
    async with request.app[POOL].acquire() as conn:
        result = await apis.delete_api(conn, backends.denylist, path_value(request, "identifier"),
                                       force=force == "true", default_audience=backends.settings.access_audience,
                                       actor=acting(request))
    await backends.clients_changed()
    return web.json_response(result.to_json())
