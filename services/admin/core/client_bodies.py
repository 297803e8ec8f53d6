"""Client bodies of the admin API in RFC 7591 §2 metadata names, read into the operations' own
types (``shared.management.clients.NewClient`` / ``ClientUpdate``). Only types are checked here;
every rule about the values is the operation's (a wildcard redirect URI, an unknown scope, ...).

``token_endpoint_auth_method`` ``none`` registers a public client (RFC 7591 §2); in an update,
``client_uri`` and ``backchannel_logout_uri`` set to null clear them. ``response_types`` may be
given, and must then be ["code"]: it is the same for every client, so nothing stores it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.admin.core.fields import boolean, clearable_string, string, strings
from shared.management import client_metadata as meta
from shared.management.clients import DEFAULT_SCOPE, ClientUpdate, NewClient
from shared.management.errors import InvalidInput

METADATA = ("client_name", "redirect_uris", "post_logout_redirect_uris", "scope", "grant_types", "response_types",
            "token_endpoint_auth_method", "id_token_signed_response_alg", "allowed_cors_origins", "client_uri",
            "backchannel_logout_uri", "backchannel_logout_session_required")
ROTATE = ("overlap_seconds",)


def new_client(body: Mapping[str, Any]) -> NewClient:
    meta.response_types(strings(body, "response_types"))
    method = string(body, "token_endpoint_auth_method") or "client_secret_basic"
    return NewClient(
        name=string(body, "client_name", required=True) or "",
        redirect_uris=strings(body, "redirect_uris", required=True) or (),
        scope=DEFAULT_SCOPE if (scope := string(body, "scope")) is None else scope,
        public=method == "none", auth_method=method,
        grant_types=strings(body, "grant_types"),
        id_token_alg=string(body, "id_token_signed_response_alg"),
        post_logout_redirect_uris=strings(body, "post_logout_redirect_uris") or (),
        client_uri=clearable_string(body, "client_uri"),
        backchannel_logout_uri=clearable_string(body, "backchannel_logout_uri"),
        backchannel_logout_session_required=bool(boolean(body, "backchannel_logout_session_required")),
        cors_origins=strings(body, "allowed_cors_origins") or ())


def client_update(body: Mapping[str, Any]) -> ClientUpdate:
    """Lists replace the registered ones; a member left out is left as it is."""
    meta.response_types(strings(body, "response_types"))
    if not set(body) - {"response_types"}:  # response_types alone changes nothing
        raise InvalidInput(f"nothing to change: give at least one of {', '.join(METADATA)}")
    return ClientUpdate(
        name=string(body, "client_name"), redirect_uris=strings(body, "redirect_uris"),
        post_logout_redirect_uris=strings(body, "post_logout_redirect_uris"), scope=string(body, "scope"),
        grant_types=strings(body, "grant_types"), auth_method=string(body, "token_endpoint_auth_method"),
        id_token_alg=string(body, "id_token_signed_response_alg"),
        cors_origins=strings(body, "allowed_cors_origins"), client_uri=clearable_string(body, "client_uri"),
        backchannel_logout_uri=clearable_string(body, "backchannel_logout_uri"),
        backchannel_logout_session_required=boolean(body, "backchannel_logout_session_required"))
