"""The admin service's one route table; services.admin.core.openapi documents exactly these."""

from __future__ import annotations

from aiohttp import web

from services.admin.endpoints import admin_tokens, audit, clients, keys, openapi, users
from shared.web.health import healthz, readyz


def routes() -> list[web.RouteDef]:
    return [
        web.get("/healthz", healthz),
        web.get("/readyz", readyz),
        web.get(openapi.OPENAPI_PATH, openapi.openapi),
        web.get(keys.KEYS_PATH, keys.list_keys),
        web.post(keys.ROTATE_PATH, keys.rotate_keys),
        web.get(audit.AUDIT_PATH, audit.list_audit),
        web.get(admin_tokens.ADMIN_TOKENS_PATH, admin_tokens.list_admin_tokens),
        web.delete(admin_tokens.ADMIN_TOKEN_PATH, admin_tokens.revoke_admin_token),
        web.get(clients.CLIENTS_PATH, clients.list_clients),
        web.get(clients.CLIENT_PATH, clients.show_client),
        web.get(users.USERS_PATH, users.list_users),
        web.get(users.USER_PATH, users.show_user),
    ]
