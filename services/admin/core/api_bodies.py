"""API bodies of the admin API, read into the arguments of shared.management.apis. Only types are
checked here; every rule about the values (the identifier's scheme, a scope name's grammar, a
scope owned by another API, the lifetime's range) is the operation's, as for the CLI.

Scopes are ``{"name", "description"}`` objects, as an API record shows them; in an update
``scopes`` replaces the list and ``add_scopes`` / ``remove_scopes`` change entries (not both),
and ``access_token_ttl: null`` returns the API to the server's default lifetime.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.admin.core.fields import MAX_ITEMS, boolean, integer, string, strings
from shared.management.errors import InvalidInput
from shared.models import ApiScope

NEW_API = ("identifier", "name", "scopes", "access_token_ttl", "with_secret")
API_CHANGE = ("name", "scopes", "add_scopes", "remove_scopes", "access_token_ttl")


@dataclass(frozen=True, slots=True)
class NewApi:
    identifier: str
    name: str
    scopes: tuple[ApiScope, ...]
    access_token_ttl: int | None
    with_secret: bool


def scope_list(body: Mapping[str, Any], name: str) -> tuple[ApiScope, ...] | None:
    """An array of ``{"name": string, "description": string}``; absent is None."""
    if name not in body:
        return None
    values = body[name]
    wanted = 'an array of {"name": string, "description": string} objects'
    if not isinstance(values, list) or len(values) > MAX_ITEMS:
        raise InvalidInput(f"{name} must be {wanted} (at most {MAX_ITEMS})")
    if not all(isinstance(v, dict) and set(v) == {"name", "description"}
               and all(isinstance(part, str) and "\x00" not in part for part in v.values()) for v in values):
        raise InvalidInput(f"{name} must be {wanted}")
    return tuple(ApiScope(v["name"], v["description"]) for v in values)


def ttl(body: Mapping[str, Any]) -> int | None:
    """``access_token_ttl``: seconds, or null for the server's default."""
    return None if body.get("access_token_ttl") is None else integer(body, "access_token_ttl")


def new_api(body: Mapping[str, Any]) -> NewApi:
    return NewApi(identifier=string(body, "identifier", required=True) or "",
                  name=string(body, "name", required=True) or "",
                  scopes=scope_list(body, "scopes") or (), access_token_ttl=ttl(body),
                  with_secret=bool(boolean(body, "with_secret")))


def api_change(body: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of ``apis.update_api``: only what the body names."""
    if not body:
        raise InvalidInput(f"nothing to change: give at least one of {', '.join(API_CHANGE)}")
    replace, add = scope_list(body, "scopes"), scope_list(body, "add_scopes")
    remove = strings(body, "remove_scopes")
    if replace is not None and (add is not None or remove is not None):
        raise InvalidInput("give scopes (replaces the whole list) or add_scopes/remove_scopes, not both")
    changes: dict[str, Any] = {"name": string(body, "name"), "replace_scopes": replace,
                               "add_scopes": add or (), "remove_scopes": remove or ()}
    if "access_token_ttl" in body:
        changes["access_token_ttl"] = ttl(body)
    return changes
