"""Signing keys: ``GET /admin/v1/keys`` (public parts only) and ``POST /admin/v1/keys/rotate``
(the same as ``latchkey keys rotate``; see shared.management.keys)."""

from __future__ import annotations

from aiohttp import web

from services.admin.app_keys import POOL, SETTINGS
from services.admin.core.pagination import page_of, page_request
from services.admin.core.problems import bad_parameter
from services.admin.inputs import acting, json_object, query
from shared.config import SIGNING_ALGS
from shared.management import keys
from shared.management.errors import InvalidInput

KEYS_PATH = "/admin/v1/keys"
ROTATE_PATH = "/admin/v1/keys/rotate"


async def list_keys(request: web.Request) -> web.Response:
    """Oldest first. A key ring holds a handful of keys, so a page is cut from all of them; the
    cursor is a position (keys are only ever added, never deleted)."""
    query(request, ("limit", "cursor"))
    wanted = page_request(request, request.app[SETTINGS], int)
    start = 0 if wanted.after is None else int(wanted.after)
    if start < 0:
        raise bad_parameter("cursor is malformed; use next_cursor of the previous page as it is")
    records = await keys.list_keys(request.app[POOL])
    rows = list(enumerate(records))[start:start + wanted.limit + 1]
    page = page_of(rows, wanted, key=lambda row: row[0] + 1)
    return web.json_response(page.to_json(lambda row: row[1].to_json()))


async def rotate_keys(request: web.Request) -> web.Response:
    query(request, ())
    body = await json_object(request, ("alg",), optional=True)
    alg = body.get("alg")
    if "alg" in body and alg not in SIGNING_ALGS:  # present, it must be one (null is not "absent")
        raise InvalidInput(f"alg must be one of {', '.join(SIGNING_ALGS)}")
    async with request.app[POOL].acquire() as conn:
        created = await keys.rotate(conn, request.app[SETTINGS], alg, by=acting(request))
    return web.json_response({"keys": [k.to_json() for k in created]}, status=201)
