"""Clients in RFC 7591 metadata names (shared.management.clients): list, show, create, update,
disable, enable, rotate-secret, delete. A new secret is in the answer of create or rotate-secret
only (every answer is ``Cache-Control: no-store``). Each handler parses, calls the operation with
the admin token's audit actor, and renders."""

from __future__ import annotations

from aiohttp import web

from services.admin.app_keys import BACKENDS, SETTINGS
from services.admin.core import client_bodies
from services.admin.core.fields import integer
from services.admin.core.pagination import page_of, page_request
from services.admin.inputs import acting, json_object, path_value, query
from shared.management import clients

CLIENTS_PATH = "/admin/v1/clients"
CLIENT_PATH = CLIENTS_PATH + "/{client_id}"
DISABLE_PATH = CLIENT_PATH + "/disable"
ENABLE_PATH = CLIENT_PATH + "/enable"
ROTATE_SECRET_PATH = CLIENT_PATH + "/rotate-secret"


async def list_clients(request: web.Request) -> web.Response:
    query(request, ("limit", "cursor"))
    wanted = page_request(request, request.app[SETTINGS], str)
    after = None if wanted.after is None else str(wanted.after)
    rows = await clients.list_clients(request.app[BACKENDS], after=after, limit=wanted.limit + 1)
    return web.json_response(page_of(rows, wanted, key=lambda r: r.client.client_id).to_json(lambda r: r.to_json()))


async def show_client(request: web.Request) -> web.Response:
    query(request, ())
    record = await clients.show(request.app[BACKENDS], path_value(request, "client_id"))
    return web.json_response(record.to_json())


async def create_client(request: web.Request) -> web.Response:
    query(request, ())
    spec = client_bodies.new_client(await json_object(request, client_bodies.METADATA))
    record = await clients.create(request.app[BACKENDS], spec, actor=acting(request))
    location = f"{CLIENTS_PATH}/{record.client.client_id}"
    return web.json_response(record.to_json(), status=201, headers={"Location": location})


async def update_client(request: web.Request) -> web.Response:
    query(request, ())
    client_id = path_value(request, "client_id")
    change = client_bodies.client_update(await json_object(request, client_bodies.METADATA))
    record = await clients.update(request.app[BACKENDS], client_id, change, actor=acting(request))
    return web.json_response(record.to_json())


async def disable_client(request: web.Request) -> web.Response:
    """Revokes the client's refresh tokens and refuses its live access tokens (see the operation)."""
    query(request, ())
    record = await clients.set_disabled(request.app[BACKENDS], path_value(request, "client_id"), True,
                                        actor=acting(request))
    return web.json_response(record.to_json())


async def enable_client(request: web.Request) -> web.Response:
    query(request, ())
    record = await clients.set_disabled(request.app[BACKENDS], path_value(request, "client_id"), False,
                                        actor=acting(request))
    return web.json_response(record.to_json())


async def rotate_secret(request: web.Request) -> web.Response:
    """``{"overlap_seconds": N}`` (optional, default 0): how long the old secret keeps working."""
    query(request, ())
    client_id = path_value(request, "client_id")
    overlap = integer(await json_object(request, client_bodies.ROTATE, optional=True), "overlap_seconds") or 0
    record = await clients.rotate_secret(request.app[BACKENDS], client_id, overlap_seconds=overlap,
                                         actor=acting(request))
    return web.json_response(record.to_json())


async def delete_client(request: web.Request) -> web.Response:
    """Deletes the client with its consents and refresh tokens; answers the record as it was."""
    query(request, ())
    record = await clients.delete(request.app[BACKENDS], path_value(request, "client_id"), actor=acting(request))
    return web.json_response(record.to_json())
