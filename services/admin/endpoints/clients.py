"""Clients: ``GET /admin/v1/clients`` and ``GET /admin/v1/clients/{client_id}``, in RFC 7591
metadata names (shared.management.clients). The writes (create, update, disable, delete,
rotate-secret) are the same module's operations, called with ``actor=acting(request)``."""

from __future__ import annotations

from aiohttp import web

from services.admin.app_keys import BACKENDS, SETTINGS
from services.admin.core.pagination import page_of, page_request
from services.admin.inputs import path_value, query
from shared.management import clients

CLIENTS_PATH = "/admin/v1/clients"
CLIENT_PATH = CLIENTS_PATH + "/{client_id}"


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
