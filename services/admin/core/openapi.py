"""The admin API's OpenAPI 3.1 document (``GET /admin/v1/openapi.json``), written by hand.

It lists exactly the routes of services.admin.routes (tests/integration/admin compares the two)
and every status each can answer, so schemathesis can check the running server against it.
Page limits come from the settings the server runs with.
"""

from __future__ import annotations

from typing import Any

from shared.config import SIGNING_ALGS, Settings

JSON = "application/json"
PROBLEM = "application/problem+json"
Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(type_: str, **extra: Any) -> Schema:
    return {"type": [type_, "null"], **extra}


SCHEMAS: dict[str, Schema] = {
    "Problem": {
        "type": "object", "description": "RFC 9457 problem details",
        "required": ["type", "title", "status"],
        "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                       "status": {"type": "integer"}, "detail": {"type": "string"}},
    },
    "SigningKey": {
        "type": "object", "additionalProperties": False,
        "required": ["kid", "alg", "status", "created_at", "activates_at", "retired_at", "publish_until"],
        "properties": {"kid": {"type": "string"}, "alg": {"enum": list(SIGNING_ALGS)},
                       "status": {"enum": ["next", "active", "retired"]},
                       "created_at": {"type": "string", "format": "date-time"},
                       "activates_at": {"type": "string", "format": "date-time"},
                       "retired_at": nullable("string", format="date-time"),
                       "publish_until": nullable("string", format="date-time")},
    },
    "RotatedKeys": {
        "type": "object", "required": ["keys"],
        "properties": {"keys": {"type": "array", "items": ref("SigningKey")}},
    },
    "AuditEvent": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "occurred_at", "event", "client_id", "user_id", "remote_addr", "details"],
        "properties": {"id": {"type": "integer"}, "occurred_at": {"type": "string", "format": "date-time"},
                       "event": {"type": "string"}, "client_id": nullable("string"),
                       "user_id": nullable("string"), "remote_addr": nullable("string"),
                       "details": {"type": "object", "description": "details.actor names who made a change"}},
    },
    "AdminToken": {
        "type": "object", "additionalProperties": False,
        "required": ["name", "read_only", "created_at", "revoked_at"],
        "properties": {"name": {"type": "string"}, "read_only": {"type": "boolean"},
                       "created_at": {"type": "string", "format": "date-time"},
                       "revoked_at": nullable("string", format="date-time")},
    },
    "Client": {
        "type": "object", "description": "RFC 7591 §2 client metadata names",
        "required": ["client_id", "client_name", "redirect_uris", "grant_types", "token_endpoint_auth_method",
                     "scope", "public"],
        "properties": {"client_id": {"type": "string"}, "client_name": {"type": "string"},
                       "redirect_uris": {"type": "array", "items": {"type": "string"}},
                       "grant_types": {"type": "array", "items": {"type": "string"}},
                       "token_endpoint_auth_method": {"enum": ["client_secret_basic", "client_secret_post", "none"]},
                       "scope": {"type": "string"}, "public": {"type": "boolean"}, "disabled": {"type": "boolean"},
                       "post_logout_redirect_uris": {"type": "array", "items": {"type": "string"}},
                       "allowed_cors_origins": {"type": "array", "items": {"type": "string"}},
                       "client_uri": nullable("string"), "backchannel_logout_uri": nullable("string"),
                       "backchannel_logout_session_required": {"type": "boolean"},
                       "previous_secret_expires_at": {"type": "integer"},
                       "id_token_signed_response_alg": {"enum": list(SIGNING_ALGS)}},
    },
    "User": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "username", "email", "email_verified", "name", "disabled"],
        "properties": {"id": {"type": "string", "format": "uuid"}, "username": {"type": "string"},
                       "email": nullable("string"), "email_verified": {"type": "boolean"},
                       "name": nullable("string"), "disabled": {"type": "boolean"}},
    },
}


def page_of(item: str) -> Schema:
    return {"type": "object", "additionalProperties": False, "required": ["items", "next_cursor"],
            "properties": {"items": {"type": "array", "items": ref(item)}, "next_cursor": nullable("string")}}


def problems(*statuses: int) -> dict[str, Any]:
    """Every error answer is a problem; 401 and 503 can come from any guarded route."""
    described = {400: "malformed query, cursor or body", 401: "missing, wrong or revoked admin token",
                 403: "a read-only token asked for a change", 404: "no such record",
                 409: "the change contradicts the current state", 413: "body too large",
                 415: "body is not application/json", 422: "invalid body",
                 503: "busy or a backing store is down (with Retry-After)"}
    return {str(s): {"description": described[s], "content": {PROBLEM: {"schema": ref("Problem")}}}
            for s in sorted({401, 503, *statuses})}


def ok(schema: Schema, status: int = 200, description: str = "OK") -> dict[str, Any]:
    return {str(status): {"description": description, "content": {JSON: {"schema": schema}}}}


def paging(settings: Settings) -> list[Schema]:
    return [
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": settings.admin_max_page_size,
                    "default": settings.admin_page_size}},
        {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "next_cursor of the previous page, as it is"},
    ]


def path_param(name: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}


def query_param(name: str, description: str, **schema: Any) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "string", **schema}}


def list_operation(summary: str, item: str, settings: Settings, *extra: Schema) -> dict[str, Any]:
    return {"summary": summary, "parameters": [*paging(settings), *extra],
            "responses": {**ok(page_of(item)), **problems(400)}}


def read_operation(summary: str, schema: str, param: str) -> dict[str, Any]:
    return {"summary": summary, "parameters": [path_param(param)],
            "responses": {**ok(ref(schema)), **problems(400, 404)}}


def paths(settings: Settings) -> dict[str, Any]:
    health = {"security": [], "responses": {**ok({"type": "object"}), **problems()}}
    return {
        "/healthz": {"get": {"summary": "The process answers", **health}},
        "/readyz": {"get": {"summary": "PostgreSQL and Redis answered the last probe (else 503)", **health}},
        "/admin/v1/openapi.json": {"get": {"summary": "This document", "responses": {
            **ok({"type": "object"}), **problems()}}},
        "/admin/v1/keys": {"get": list_operation("Signing keys, oldest first (public parts only)",
                                                 "SigningKey", settings)},
        "/admin/v1/keys/rotate": {"post": {
            "summary": "Announce a new signing key per algorithm of the key ring (or for alg only), "
                       "like `latchkey keys rotate`; 409 when this service has no LATCHKEY_KEY_ENCRYPTION_KEY",
            "requestBody": {"required": False, "content": {JSON: {"schema": {
                "type": "object", "additionalProperties": False,
                "properties": {"alg": {"enum": list(SIGNING_ALGS)}}}}}},
            "responses": {**ok(ref("RotatedKeys"), 201, "Created"), **problems(400, 403, 409, 413, 415, 422)}}},
        "/admin/v1/audit": {"get": list_operation(
            "The audit trail, newest first", "AuditEvent", settings,
            query_param("since", "ISO 8601 date-time, inclusive", format="date-time"),
            query_param("until", "ISO 8601 date-time, exclusive", format="date-time"),
            query_param("event", "event type, e.g. client_updated"),
            query_param("client_id", "events of this client"),
            query_param("user", "events of this user (username or user id)"))},
        "/admin/v1/admin-tokens": {"get": list_operation("Admin tokens, live and revoked (never their values)",
                                                         "AdminToken", settings)},
        "/admin/v1/admin-tokens/{name}": {"delete": {
            "summary": "Revoke the live admin token of this name", "parameters": [path_param("name")],
            "responses": {**ok(ref("AdminToken")), **problems(400, 403, 404)}}},
        "/admin/v1/clients": {"get": list_operation("Clients, by client_id", "Client", settings)},
        "/admin/v1/clients/{client_id}": {"get": read_operation("One client", "Client", "client_id")},
        "/admin/v1/users": {"get": list_operation("Users, by username", "User", settings)},
        "/admin/v1/users/{username}": {"get": read_operation("One user", "User", "username")},
    }


def document(settings: Settings) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Latchkey admin API", "version": "1",
                 "description": "Manage the platform's records; every change is written to the audit trail "
                                "with the admin token's name. Errors are RFC 9457 problem details."},
        "servers": [{"url": "/"}],
        "security": [{"adminToken": []}],
        "paths": paths(settings),
        "components": {
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer",
                                               "description": "a token from `latchkey admin-token create`"}},
            "schemas": SCHEMAS,
        },
    }
