"""Reading the form and authenticating the client, shared by /token, /revoke and /introspect.

The rules live in core.form and core.client_auth; this adds the I/O: the cached client
lookup and the audit record of every failure (RFC 6749 §2.3, §5.2; never a secret value), counted
by a fixed reason key and named on the request's access line.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from shared.errors import InvalidClient
from shared.models import AuditEvent, Client
from shared.web.client_address import client_address
from shared.web.request_context import note_client, note_error
from services.token.core.client_auth import AUTH_FAILED, ClientCredentials, check_client, read_credentials
from services.token.core.form import check_content_type, parse_form
from services.token.app_keys import AUDIT, CLIENTS, METRICS, SETTINGS

_AUDITED_ID_CHARS = 200  # an unknown client_id is caller-controlled text


async def read_form(request: web.Request) -> Mapping[str, str]:
    check_content_type(request.content_type, request.charset)
    return parse_form(await request.read(), request.app[SETTINGS].max_params)


def reason_key(reason: str) -> str:
    """The metric label of a check_client reason (whose text may name the methods involved)."""
    if reason == "unknown client":
        return "unknown_client"
    if reason == "wrong secret":
        return "wrong_secret"
    return "wrong_method" if reason.startswith("used ") else "malformed"


async def _audit_failure(request: web.Request, client_id: str | None, method: str | None, reason: str,
                         key: str) -> None:
    request.app[METRICS].client_auth_failure(key)
    note_error(request, "invalid_client", key)
    await request.app[AUDIT].record(AuditEvent(
        "client_auth_failure", client_id=client_id[:_AUDITED_ID_CHARS] if client_id else None,
        remote_addr=client_address(request, request.app[SETTINGS].trusted_proxies),
        details={"method": method, "reason": reason, "path": request.path}))


async def authenticate(request: web.Request, form: Mapping[str, str]) -> Client:
    try:
        credentials: ClientCredentials = read_credentials(request.headers.get("Authorization"), form)
    except InvalidClient as failure:
        await _audit_failure(request, form.get("client_id"), "client_secret_basic" if failure.used_basic else None,
                             failure.description, "malformed")
        raise
    client = await request.app[CLIENTS].get(credentials.client_id)
    reason = check_client(credentials, client)
    if reason is not None or client is None:
        reason = reason or "unknown client"
        await _audit_failure(request, credentials.client_id, credentials.method, reason, reason_key(reason))
        raise InvalidClient(AUTH_FAILED, used_basic=credentials.used_basic)
    note_client(request, client.client_id)
    return client
