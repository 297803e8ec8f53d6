"""The admin service's one route table; services.admin.core.openapi documents exactly these."""

from __future__ import annotations

from aiohttp import web

from services.admin.endpoints import admin_tokens, apis, audit, clients, consents, keys, openapi, users
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
        web.post(clients.CLIENTS_PATH, clients.create_client),
        web.get(clients.CLIENT_PATH, clients.show_client),
        web.patch(clients.CLIENT_PATH, clients.update_client),
        web.delete(clients.CLIENT_PATH, clients.delete_client),
        web.post(clients.DISABLE_PATH, clients.disable_client),
        web.post(clients.ENABLE_PATH, clients.enable_client),
        web.post(clients.ROTATE_SECRET_PATH, clients.rotate_secret),
        web.get(users.USERS_PATH, users.list_users),
        web.post(users.USERS_PATH, users.create_user),
        web.get(users.USER_PATH, users.show_user),
        web.patch(users.USER_PATH, users.update_user),
        web.delete(users.USER_PATH, users.delete_user),
        web.post(users.DISABLE_PATH, users.disable_user),
        web.post(users.ENABLE_PATH, users.enable_user),
        web.put(users.PASSWORD_PATH, users.set_password),
        web.get(consents.USER_CONSENTS_PATH, consents.list_user_consents),
        web.delete(consents.USER_CONSENT_PATH, consents.revoke_user_consent),
        web.get(consents.CONSENTS_PATH, consents.list_consents),
        web.delete(consents.CONSENTS_PATH, consents.revoke_consent),
        web.get(apis.APIS_PATH, apis.list_apis),
        web.post(apis.APIS_PATH, apis.create_api),
        web.get(apis.API_PATH, apis.show_api),
        web.patch(apis.API_PATH, apis.update_api),
        web.delete(apis.API_PATH, apis.delete_api),
    ]
