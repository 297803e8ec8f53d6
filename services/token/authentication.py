"""Reading the form and authenticating the client, shared by /token, /revoke and /introspect.

The rules live in core.form and core.client_auth; this adds the I/O: the rate limits
(shared.web.rate_limits: admitted before the secret is checked, a failure counted after), the
cached client lookup and the audit record of every failure (RFC 6749 §2.3, §5.2; never a secret
value), and of the moment a caller crosses its failed-authentication limit.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from services.token.app_keys import AUDIT, CLIENTS, RATE_LIMITER, SETTINGS
from services.token.core.client_auth import AUTH_FAILED, ClientCredentials, check_client, read_credentials
from services.token.core.form import check_content_type, parse_form
from shared.errors import InvalidClient
from shared.models import AuditEvent, Client
from shared.web.client_address import client_address

_AUDITED_ID_CHARS = 200  # an unknown client_id is caller-controlled text


async def read_form(request: web.Request) -> Mapping[str, str]:
    check_content_type(request.content_type, request.charset)
    return parse_form(await request.read(), request.app[SETTINGS].max_params)


async def _failed(request: web.Request, client_id: str | None, method: str | None, reason: str) -> None:
    """Counts the failure against the caller's limits and audits it (one event per failure,
    and one more when this failure is the one that makes the limit bite)."""
    address = client_address(request, request.app[SETTINGS].trusted_proxies)
    audited_id = client_id[:_AUDITED_ID_CHARS] if client_id else None
    crossed = await request.app[RATE_LIMITER].record_failure(client_id, address)
    audit = request.app[AUDIT]
    await audit.record(AuditEvent("client_auth_failure", client_id=audited_id, remote_addr=address,
                                  details={"method": method, "reason": reason, "path": request.path}))
    if crossed:
        await audit.record(AuditEvent("client_auth_throttled", client_id=audited_id, remote_addr=address,
                                      details={"limited": crossed, "path": request.path}))


async def authenticate(request: web.Request, form: Mapping[str, str]) -> Client:
    try:
        credentials: ClientCredentials = read_credentials(request.headers.get("Authorization"), form)
    except InvalidClient as failure:
        await _admit(request, form.get("client_id"))
        await _failed(request, form.get("client_id"), "client_secret_basic" if failure.used_basic else None,
                      failure.description)
        raise
    await _admit(request, credentials.client_id)
    client = await request.app[CLIENTS].get(credentials.client_id)
    reason = check_client(credentials, client)
    if reason is not None or client is None:
        await _failed(request, credentials.client_id, credentials.method, reason or "unknown client")
        raise InvalidClient(AUTH_FAILED, used_basic=credentials.used_basic)
    return client


async def _admit(request: web.Request, client_id: str | None) -> None:
    address = client_address(request, request.app[SETTINGS].trusted_proxies)
    await request.app[RATE_LIMITER].admit(client_id, address)
