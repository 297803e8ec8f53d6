"""Clients: ``GET /admin/v1/clients`` and ``GET /admin/v1/clients/{client_id}``, in RFC 7591
metadata names. The writes (create, update, disable, delete, rotate-secret) call
``shared.management.clients`` and join this module once those operations exist."""

from __future__ import annotations

from aiohttp import web

from services.admin import readers
from services.admin.app_keys import POOL, SETTINGS
from services.admin.core.pagination import page_of, page_request
from services.admin.inputs import path_value, query

CLIENTS_PATH = "/admin/v1/clients"
CLIENT_PATH = CLIENTS_PATH + "/{client_id}"


async def list_clients(request: web.Request) -> web.Response:
    query(request, ("limit", "cursor"))
    wanted = page_request(request, request.app[SETTINGS], str)
    after = None if wanted.after is None else str(wanted.after)
    rows = await readers.list_clients(request.app[POOL], after=after, limit=wanted.limit + 1)
    return web.json_response(page_of(rows, wanted, key=lambda c: c.client_id).to_json(readers.client_json))


async def show_client(request: web.Request) -> web.Response:
    query(request, ())
    client = await readers.show_client(request.app[POOL], path_value(request, "client_id"))
    return web.json_response(readers.client_json(client))
