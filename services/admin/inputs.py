"""Reading the admin API's input strictly: query parameters and JSON bodies.

Unknown or repeated query parameters are a 400 problem before any logic runs, and so is a body
that is not one JSON object; a body field that is unknown or of the wrong type is 422.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from aiohttp import web

from services.admin.app_keys import ADMIN_TOKEN
from services.admin.core.problems import Problem, bad_parameter
from shared.management.admin_tokens import actor
from shared.management.errors import InvalidInput, NotFound


def query(request: web.Request, allowed: Collection[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in request.query.items():
        if name not in allowed:
            raise bad_parameter(f"unknown query parameter {name!r}; this endpoint takes: "
                                f"{', '.join(sorted(allowed)) or 'none'}")
        if name in params:
            raise bad_parameter(f"query parameter {name!r} is repeated")
        if "\x00" in value:  # PostgreSQL text cannot hold NUL: refused here, not as a 500 there
            raise bad_parameter(f"query parameter {name!r} holds a NUL character")
        params[name] = value
    return params


async def json_object(request: web.Request, allowed: Collection[str], *, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object with only ``allowed`` members; no body at all is ``{}`` when
    ``optional`` (a body of blanks is not JSON, so it is refused like any other)."""
    raw = await request.read()  # bounded by client_max_size: a larger body is 413
    if not raw and optional:
        return {}
    if request.content_type != "application/json":
        raise Problem(415, "unsupported-media-type", "Unsupported media type", "send the body as application/json")
    try:
        body = json.loads(raw, parse_constant=_not_json, object_pairs_hook=_members)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: arrays nested thousands deep
        raise Problem(400, "malformed-json", "Malformed JSON", "the body is not valid JSON (RFC 8259: no NaN or "
                      "Infinity, no member named twice)") from None
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    if unknown := sorted(set(body) - set(allowed)):
        raise InvalidInput(f"unknown member {unknown[0]!r}; allowed: {', '.join(sorted(allowed)) or 'none'}")
    return body


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")  # Python's json reads NaN and Infinity; RFC 8259 has neither


def _members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object naming a member twice is refused: which value would count is anyone's guess
    (RFC 8259 §4: "The names within an object SHOULD be unique")."""
    members = dict(pairs)
    if len(members) != len(pairs):
        raise ValueError("a member is named twice")
    return members


def path_value(request: web.Request, name: str) -> str:
    """A record's name from the path; one PostgreSQL text cannot hold (NUL) names no record."""
    value = request.match_info[name]
    if "\x00" in value:
        raise NotFound(f"no record named {value!r}")
    return value


def acting(request: web.Request) -> str:
    """The actor the audit trail records for a change made by this request."""
    return actor(request[ADMIN_TOKEN].name)
