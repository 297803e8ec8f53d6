"""Remembered consents (shared.management.consents): a user's, listed by client_id, and one
revoked (the consent forgotten, that grant's refresh tokens revoked and access tokens refused).

Two equal forms: ``GET /admin/v1/consents?user=NAME`` and ``DELETE
/admin/v1/consents?user=NAME&client_id=ID`` (consents as a collection, as Hydra's admin API has
them), and the same under the user, ``/admin/v1/users/{username}/consents[/{client_id}]``.
"""

from __future__ import annotations

from aiohttp import web

from services.admin.app_keys import BACKENDS, SETTINGS
from services.admin.core.pagination import page_of, page_request
from services.admin.core.problems import bad_parameter
from services.admin.inputs import acting, path_value, query
from shared.management import consents

CONSENTS_PATH = "/admin/v1/consents"
USER_CONSENTS_PATH = "/admin/v1/users/{username}/consents"
USER_CONSENT_PATH = USER_CONSENTS_PATH + "/{client_id}"


def required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise bad_parameter(f"query parameter {name!r} is required")
    return value


async def _page(request: web.Request, username: str) -> web.Response:
    """A user holds at most one consent per client, so the page is cut from all of them."""
    wanted = page_request(request, request.app[SETTINGS], str)
    rows = await consents.list_consents(request.app[BACKENDS], username)
    after = wanted.after
    # Sorted here by code point, as the cursor compares: a database collation may order otherwise.
    rows = sorted((r for r in rows if after is None or r.client_id > str(after)), key=lambda r: r.client_id)
    rows = rows[:wanted.limit + 1]
    return web.json_response(page_of(rows, wanted, key=lambda r: r.client_id).to_json(lambda r: r.to_json()))


async def _revoke(request: web.Request, username: str, client_id: str) -> web.Response:
    result = await consents.revoke(request.app[BACKENDS], username, client_id, actor=acting(request))
    return web.json_response(result.to_json())


async def list_consents(request: web.Request) -> web.Response:
    """``?user=NAME`` (required)."""
    return await _page(request, required(query(request, ("user", "limit", "cursor")), "user"))


async def revoke_consent(request: web.Request) -> web.Response:
    """``?user=NAME&client_id=ID`` (both required)."""
    params = query(request, ("user", "client_id"))
    return await _revoke(request, required(params, "user"), required(params, "client_id"))


async def list_user_consents(request: web.Request) -> web.Response:
    query(request, ("limit", "cursor"))
    return await _page(request, path_value(request, "username"))


async def revoke_user_consent(request: web.Request) -> web.Response:
    query(request, ())
    return await _revoke(request, path_value(request, "username"), path_value(request, "client_id"))
