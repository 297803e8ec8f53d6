"""The components of the admin API's OpenAPI document: the records it answers and the bodies it
takes (RFC 7591 §2 names for clients). A request schema is never stricter than the server: what it
rules out, the server refuses too (schemathesis sends such bodies and expects a 4xx)."""

from __future__ import annotations

from typing import Any

from services.admin.core.fields import MAX_ITEMS
from shared.config import SIGNING_ALGS
from shared.management.apis import TTL_MAX, TTL_MIN
from shared.management.client_metadata import AUTH_METHODS, GRANT_TYPES, RESPONSE_TYPES
from shared.management.clients import MAX_OVERLAP_SECONDS
from shared.management.users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(type_: str, **extra: Any) -> Schema:
    return {"type": [type_, "null"], **extra}


PASSWORD: Schema = {"type": "string", "minLength": MIN_PASSWORD_LENGTH, "maxLength": MAX_PASSWORD_LENGTH,
                    "writeOnly": True}
STRINGS: Schema = {"type": "array", "items": {"type": "string"}, "maxItems": MAX_ITEMS}


def client_metadata(*required: str) -> Schema:
    """A client body in RFC 7591 §2 names; ``token_endpoint_auth_method`` none is a public client,
    null leaves client_uri or backchannel_logout_uri unset (clears it in an update)."""
    return {"type": "object", "additionalProperties": False, "required": list(required), "properties": {
        "client_name": {"type": "string"}, "redirect_uris": STRINGS, "post_logout_redirect_uris": STRINGS,
        "scope": {"type": "string", "description": "space-separated"},
        "grant_types": {"type": "array", "items": {"enum": list(GRANT_TYPES)},
                        "contains": {"const": "authorization_code"},
                        "description": "default both; refresh_token is the optional one"},
        "response_types": {"type": "array", "items": {"enum": list(RESPONSE_TYPES)}, "minItems": 1,
                           "description": "optional; the only response type is code"},
        "token_endpoint_auth_method": {"enum": list(AUTH_METHODS), "default": "client_secret_basic",
                                       "description": "none: a public client (no secret, PKCE required)"},
        "id_token_signed_response_alg": {"type": "string", "description": "an algorithm of the key ring"},
        "allowed_cors_origins": STRINGS, "client_uri": nullable("string"),
        "backchannel_logout_uri": nullable("string"), "backchannel_logout_session_required": {"type": "boolean"}}}


API_SCOPES: Schema = {"type": "array", "items": {"$ref": "#/components/schemas/ApiScope"}, "maxItems": MAX_ITEMS}
TTL: Schema = {**nullable("integer", minimum=TTL_MIN, maximum=TTL_MAX),
               "description": "seconds its access tokens live; null: LATCHKEY_ACCESS_TOKEN_TTL_SECONDS"}

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
        "required": ["client_id", "client_name", "redirect_uris", "grant_types", "response_types",
                     "token_endpoint_auth_method", "scope", "public"],
        "properties": {"client_id": {"type": "string"}, "client_name": {"type": "string"},
                       "redirect_uris": {"type": "array", "items": {"type": "string"}},
                       "grant_types": {"type": "array", "items": {"type": "string"}},
                       "response_types": {"type": "array", "items": {"enum": list(RESPONSE_TYPES)}},
                       "token_endpoint_auth_method": {"enum": list(AUTH_METHODS)},
                       "scope": {"type": "string"}, "public": {"type": "boolean"}, "disabled": {"type": "boolean"},
                       "post_logout_redirect_uris": {"type": "array", "items": {"type": "string"}},
                       "allowed_cors_origins": {"type": "array", "items": {"type": "string"}},
                       "client_uri": nullable("string"), "backchannel_logout_uri": nullable("string"),
                       "backchannel_logout_session_required": {"type": "boolean"},
                       "previous_secret_expires_at": {"type": "integer"},
                       "apis": {"type": "array", "items": {"type": "string"},
                                "description": "identifiers of the APIs (RFC 8707 resources) the client may use"},
                       "id_token_signed_response_alg": {"enum": list(SIGNING_ALGS)}},
    },
    "User": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "username", "email", "email_verified", "name", "disabled"],
        "properties": {"id": {"type": "string", "format": "uuid"}, "username": {"type": "string"},
                       "email": nullable("string"), "email_verified": {"type": "boolean"},
                       "name": nullable("string"), "disabled": {"type": "boolean"}},
    },
    "ClientWithSecret": {
        "description": "a client with the secret just made: shown in this answer only",
        "allOf": [ref("Client"), {"type": "object", "required": ["client_secret", "client_secret_expires_at"],
                                  "properties": {"client_secret": {"type": "string"},
                                                 "client_secret_expires_at": {"const": 0}}}]},
    "RegisteredClient": {
        "description": "a confidential client comes with its secret (this answer only); a public one without",
        "oneOf": [ref("ClientWithSecret"), {"allOf": [ref("Client"), {
            "type": "object", "not": {"required": ["client_secret"]},
            "properties": {"token_endpoint_auth_method": {"const": "none"}, "public": {"const": True}}}]}]},
    "NewClient": client_metadata("client_name", "redirect_uris"),
    "ClientChange": {**client_metadata(),
                     "minProperties": 1,
                     "description": "only the members to change; a list replaces the registered one, "
                                    "null clears client_uri or backchannel_logout_uri"},
    "RotateSecret": {"type": "object", "additionalProperties": False, "properties": {"overlap_seconds": {
        "type": "integer", "minimum": 0, "maximum": MAX_OVERLAP_SECONDS, "default": 0,
        "description": "seconds the old secret keeps working (0: not at all)"}}},
    "NewUser": {"type": "object", "additionalProperties": False, "required": ["username", "password"],
                "properties": {"username": {"type": "string"}, "password": PASSWORD,
                               "email": nullable("string"), "name": nullable("string")}},
    "UserChange": {"type": "object", "additionalProperties": False, "minProperties": 1,
                   "description": "null or an empty string clears a member",
                   "properties": {"email": nullable("string"), "name": nullable("string")}},
    "NewPassword": {"type": "object", "additionalProperties": False, "required": ["password"],
                    "properties": {"password": PASSWORD}},
    "Consent": {"type": "object", "additionalProperties": False,
                "required": ["username", "client_id", "client_name", "scope", "updated_at"],
                "properties": {"username": {"type": "string"}, "client_id": {"type": "string"},
                               "client_name": {"type": "string"}, "scope": {"type": "string"},
                               "updated_at": {"type": "string", "format": "date-time"}}},
    "ApiScope": {"type": "object", "additionalProperties": False, "required": ["name", "description"],
                 "properties": {"name": {"type": "string", "description": "RFC 6749 §3.3 scope-token"},
                                "description": {"type": "string", "description": "shown on the consent page"}}},
    "Api": {
        "type": "object", "additionalProperties": False,
        "description": "an API (RFC 8707 resource); client_secret only in the answer to a create with_secret",
        "required": ["identifier", "name", "scopes", "access_token_ttl", "clients"],
        "properties": {"identifier": {"type": "string", "description": "the resource value and the tokens' aud"},
                       "name": {"type": "string"}, "scopes": {"type": "array", "items": ref("ApiScope")},
                       "access_token_ttl": nullable("integer"),
                       "clients": {"type": "array", "items": {"type": "string"},
                                   "description": "client_ids of the clients that may use it"},
                       "client_id": {"type": "string", "description": "its introspection credentials' id"},
                       "client_secret": {"type": "string"}}},
    "NewApi": {"type": "object", "additionalProperties": False, "required": ["identifier", "name"],
               "properties": {"identifier": {"type": "string", "description": "absolute https URI"},
                              "name": {"type": "string"}, "scopes": API_SCOPES, "access_token_ttl": TTL,
                              "with_secret": {"type": "boolean", "default": False}}},
    "ApiChange": {"type": "object", "additionalProperties": False, "minProperties": 1,
                  "description": "only the members to change; scopes replaces the list, add_scopes (an existing "
                                 "name changes its description) and remove_scopes change entries",
                  "properties": {"name": {"type": "string"}, "scopes": API_SCOPES, "add_scopes": API_SCOPES,
                                 "remove_scopes": STRINGS, "access_token_ttl": TTL}},
    "ApiDeleted": {"type": "object", "additionalProperties": False,
                   "required": ["identifier", "deleted", "unlinked_clients", "revoked_refresh_tokens",
                                "denylisted_access_tokens"],
                   "properties": {"identifier": {"type": "string"}, "deleted": {"const": True},
                                  "unlinked_clients": {"type": "array", "items": {"type": "string"}},
                                  "revoked_refresh_tokens": {"type": "integer", "minimum": 0},
                                  "denylisted_access_tokens": {"type": "integer", "minimum": 0}}},
    "ConsentRevoked": {"type": "object", "additionalProperties": False,
                       "required": ["username", "client_id", "consent_deleted", "refresh_tokens_revoked"],
                       "properties": {"username": {"type": "string"}, "client_id": {"type": "string"},
                                      "consent_deleted": {"type": "boolean"},
                                      "refresh_tokens_revoked": {"type": "integer", "minimum": 0}}},
}
