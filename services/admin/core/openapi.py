"""The admin API's OpenAPI 3.1 document (``GET /admin/v1/openapi.json``), written by hand.

It lists exactly the routes of services.admin.routes (tests/integration/admin compares the two)
and every status each can answer, so schemathesis can check the running server against it.
Page limits come from the settings the server runs with.
"""

from __future__ import annotations

from typing import Any

from services.admin.core.schemas import SCHEMAS, Schema, nullable, ref
from shared.config import SIGNING_ALGS, Settings

JSON = "application/json"
PROBLEM = "application/problem+json"


def page_of(item: str) -> Schema:
    return {"type": "object", "additionalProperties": False, "required": ["items", "next_cursor"],
            "properties": {"items": {"type": "array", "items": ref(item)}, "next_cursor": nullable("string")}}


def problems(*statuses: int) -> dict[str, Any]:
    """Every error answer is a problem; 401, 429 and 503 can come from any guarded route."""
    described = {400: "malformed query, cursor or body", 401: "missing, wrong or revoked admin token",
                 403: "a read-only token asked for a change", 404: "no such record",
                 409: "the change contradicts the current state", 413: "body too large",
                 415: "body is not application/json", 422: "invalid body",
                 429: "over a rate limit: of this admin token, or of this address's requests without a valid "
                      "token (with Retry-After)",
                 503: "busy or a backing store is down (with Retry-After)"}
    return {str(s): {"description": described[s], "content": {PROBLEM: {"schema": ref("Problem")}}}
            for s in sorted({401, 429, 503, *statuses})}


def unguarded_problems(*statuses: int) -> dict[str, Any]:
    """The problems of a route that needs no token."""
    return {status: answer for status, answer in problems(*statuses).items() if status not in ("401", "429")}


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


def query_param(name: str, description: str, *, required: bool = False, **schema: Any) -> Schema:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": {"type": "string", **schema}}


def list_operation(summary: str, item: str, settings: Settings, *extra: Schema) -> dict[str, Any]:
    return {"summary": summary, "parameters": [*paging(settings), *extra],
            "responses": {**ok(page_of(item)), **problems(400)}}


def read_operation(summary: str, schema: str, param: str) -> dict[str, Any]:
    return {"summary": summary, "parameters": [path_param(param)],
            "responses": {**ok(ref(schema)), **problems(400, 404)}}


def write_operation(summary: str, params: tuple[str, ...], result: str, *statuses: int, body: str | None = None,
                    body_required: bool = True, status: int = 200) -> dict[str, Any]:
    """A change; a body is application/json (415 else), and a read-only token gets 403 before it is read."""
    operation: dict[str, Any] = {"summary": summary, "parameters": [path_param(p) for p in params]}
    described = "Created" if status == 201 else "OK"
    operation["responses"] = {**ok(ref(result), status, described), **problems(400, 403, *statuses)}
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": {JSON: {"schema": ref(body)}}}
        operation["responses"].update(problems(413, 415, 422))
    return operation


def client_paths() -> dict[str, Any]:
    client, secret = ("client_id",), "ClientWithSecret"
    return {
        "/admin/v1/clients": {"post": write_operation(
            "Register a client (RFC 7591 §2 names); a confidential client's secret is in this answer only",
            (), "RegisteredClient", body="NewClient", status=201)},
        "/admin/v1/clients/{client_id}": {
            "patch": write_operation("Change a client's metadata; members left out stay as they are",
                                     client, "Client", 404, body="ClientChange"),
            "delete": write_operation("Delete a client with its consents and refresh tokens; its access tokens "
                                      "are refused. Answers the client as it was", client, "Client", 404)},
        "/admin/v1/clients/{client_id}/disable": {"post": write_operation(
            "Refuse a client everywhere: its refresh tokens are revoked, its access tokens refused",
            client, "Client", 404)},
        "/admin/v1/clients/{client_id}/enable": {"post": write_operation(
            "Let a disabled client in again", client, "Client", 404)},
        "/admin/v1/clients/{client_id}/rotate-secret": {"post": write_operation(
            "A new client secret, in this answer only; the old one works for overlap_seconds more",
            client, secret, 404, body="RotateSecret", body_required=False)},
    }


def user_paths(settings: Settings) -> dict[str, Any]:
    user = ("username",)
    return {
        "/admin/v1/users": {"post": write_operation(
            "Create a user; 409 when the username (case-insensitive) exists", (), "User", 409,
            body="NewUser", status=201)},
        "/admin/v1/users/{username}": {
            "patch": write_operation("Change a user's email or name", user, "User", 404, body="UserChange"),
            "delete": write_operation("Delete a user with their consents and refresh tokens; their sessions "
                                      "end, their access tokens are refused. Answers the user as it was",
                                      user, "User", 404)},
        "/admin/v1/users/{username}/disable": {"post": write_operation(
            "Refuse a user's login (as a wrong password), end their sessions, revoke their tokens",
            user, "User", 404)},
        "/admin/v1/users/{username}/enable": {"post": write_operation(
            "Let a disabled user log in again", user, "User", 404)},
        "/admin/v1/users/{username}/password": {"put": write_operation(
            "Set a user's password", user, "User", 404, body="NewPassword")},
        "/admin/v1/users/{username}/consents": {"get": {
            "summary": "The user's remembered consents, by client_id",
            "parameters": [path_param("username"), *paging(settings)],
            "responses": {**ok(page_of("Consent")), **problems(400, 404)}}},
        "/admin/v1/users/{username}/consents/{client_id}": {"delete": write_operation(
            "Revoke a consent: the next authorization asks again; that grant's tokens are revoked",
            ("username", "client_id"), "ConsentRevoked", 404)},
    }


def api_paths(settings: Settings) -> dict[str, Any]:
    api = ("identifier",)
    delete = write_operation("Delete an API; refused (409) while a client uses it unless force=true. Its refresh "
                             "tokens are revoked, their access tokens refused", api, "ApiDeleted", 404, 409)
    delete["parameters"].append(query_param("force", "true: unlink the clients that use it (else 409 while one does)",
                                            enum=["true", "false"]))
    consents = list_operation("A user's remembered consents, by client_id", "Consent", settings,
                              query_param("user", "the username", required=True, minLength=1))
    return {
        "/admin/v1/apis": {
            "get": list_operation("APIs (resource servers), by identifier", "Api", settings),
            "post": write_operation(
                "Define an API and its scopes (as `latchkey api create`); with_secret: its introspection "
                "credentials, in this answer only; 409 when the identifier or a scope name is taken",
                (), "Api", 409, body="NewApi", status=201)},
        "/admin/v1/apis/{identifier}": {
            "get": read_operation("One API; the identifier percent-encoded as one path segment", "Api",
                                  "identifier"),
            "patch": write_operation("Change an API's name, scopes or access-token lifetime (a removed scope is "
                                     "also taken from every client); 409 when a scope belongs to another API",
                                     api, "Api", 404, 409, body="ApiChange"),
            "delete": delete},
        "/admin/v1/consents": {
            "get": {**consents, "responses": {**consents["responses"], **problems(400, 404)}},
            "delete": {"summary": "Revoke a consent: the next authorization asks again; that grant's tokens are "
                                  "revoked (the same as DELETE /admin/v1/users/{username}/consents/{client_id})",
                       "parameters": [query_param("user", "the username", required=True, minLength=1),
                                      query_param("client_id", "the client", required=True, minLength=1)],
                       "responses": {**ok(ref("ConsentRevoked")), **problems(400, 403, 404)}}},
    }


def merged(*groups: dict[str, Any]) -> dict[str, Any]:
    """Path items of several groups, the operations of one path joined."""
    items: dict[str, Any] = {}
    for group in groups:
        for path, operations in group.items():
            items.setdefault(path, {}).update(operations)
    return items


def paths(settings: Settings) -> dict[str, Any]:
    # No token, so never 401 or 429; 503 is /readyz's not-ready answer (and a busy service's).
    health = {"security": [], "responses": {**ok({"type": "object"}), **unguarded_problems(503)}}
    return merged({
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
    }, client_paths(), user_paths(settings), api_paths(settings))


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
