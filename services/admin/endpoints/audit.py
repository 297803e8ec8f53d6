"""``GET /admin/v1/audit``: the audit trail, newest first, filtered by time (ISO 8601 ``since``
inclusive, ``until`` exclusive), ``event``, ``client_id`` and ``user`` (a username or user id)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from services.admin.app_keys import POOL, SETTINGS
from services.admin.core.pagination import page_of, page_request
from services.admin.core.problems import bad_parameter
from services.admin.inputs import query
from shared.management.audit import AuditFilter, list_events

AUDIT_PATH = "/admin/v1/audit"
FILTERS = ("since", "until", "event", "client_id", "user")


def instant(name: str, raw: str | None) -> datetime | None:
    """ISO 8601 date-time; without an offset it is UTC."""
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.upper())  # RFC 3339 §5.6 allows a lower-case t and z
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise bad_parameter(f"{name} must be an ISO 8601 date-time, e.g. 2025-01-31T12:00:00Z") from None


async def list_audit(request: web.Request) -> web.Response:
    params = query(request, ("limit", "cursor", *FILTERS))
    wanted = page_request(request, request.app[SETTINGS], int)
    filters = AuditFilter(since=instant("since", params.get("since")), until=instant("until", params.get("until")),
                          event=params.get("event"), client_id=params.get("client_id"), user=params.get("user"))
    before = None if wanted.after is None else int(wanted.after)
    rows = await list_events(request.app[POOL], filters, before=before, limit=wanted.limit + 1)
    page = page_of(rows, wanted, key=lambda r: r.id)
    return web.json_response(page.to_json(lambda r: r.to_json()))
