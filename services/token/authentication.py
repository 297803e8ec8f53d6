"""Reading the form and authenticating the client, shared by /token, /revoke and /introspect.

The rules live in core.form and core.client_auth; this adds the I/O: the rate limits
(shared.web.rate_limits: admitted before the secret is checked, a failure counted after), the
cached client lookup and the audit record of every failure (RFC 6749 §2.3, §5.2; never a secret
value), and of the moment a caller crosses its failed-authentication limit.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from services.token.app_keys import APIS, AUDIT, CLIENTS, METRICS, RATE_LIMITER, SETTINGS
from services.token.core.client_auth import AUTH_FAILED, ClientCredentials, check_client, read_credentials
from services.token.core.form import check_content_type, parse_form
from services.token.cors import NAMED_CLIENT
from shared.errors import InvalidClient
from shared.models import Api, AuditEvent, Client
from shared.web.client_address import client_address
from shared.web.request_context import note_client, note_error

_AUDITED_ID_CHARS = 200  # an unknown client_id is caller-controlled text


async def read_form(request: web.Request) -> Mapping[str, str]:
    check_content_type(request.content_type, request.charset)
    return parse_form(await request.read(), request.app[SETTINGS].max_params)


def reason_key(reason: str) -> str:
    """The metric label and log reason of a failure (check_client's text may name methods)."""
    if reason == "unknown client":
        return "unknown_client"
    if reason == "wrong secret":
        return "wrong_secret"
    return "wrong_method" if reason.startswith("used ") else "malformed"


async def _failed(request: web.Request, client_id: str | None, method: str | None, reason: str) -> None:
    """Counts the failure against the caller's limits and audits it (one event per failure,
    and one more when this failure is the one that makes the limit bite); counted in /metrics
    by a fixed reason key, which the access line names too."""
    key = reason_key(reason)
    request.app[METRICS].client_auth_failure(key)
    note_error(request, "invalid_client", key)
    address = client_address(request, request.app[SETTINGS].trusted_proxies)
    audited_id = client_id[:_AUDITED_ID_CHARS] if client_id else None
    crossed = await request.app[RATE_LIMITER].record_failure(client_id, address)
    audit = request.app[AUDIT]
    await audit.record(AuditEvent("client_auth_failure", client_id=audited_id, remote_addr=address,
                                  details={"method": method, "reason": reason, "path": request.path}))
    if crossed:
        await audit.record(AuditEvent("client_auth_throttled", client_id=audited_id, remote_addr=address,
                                      details={"limited": crossed, "path": request.path}))


async def _credentials(request: web.Request, form: Mapping[str, str]) -> ClientCredentials:
    try:
        credentials = read_credentials(request.headers.get("Authorization"), form)
    except InvalidClient as failure:
        await _admit(request, form.get("client_id"))
        await _failed(request, form.get("client_id"), "client_secret_basic" if failure.used_basic else None,
                      failure.description)
        raise
    await _admit(request, credentials.client_id)
    return credentials


async def authenticate(request: web.Request, form: Mapping[str, str]) -> Client:
    credentials = await _credentials(request, form)
    client = await request.app[CLIENTS].get(credentials.client_id)
    if client is not None:
        request[NAMED_CLIENT] = client  # its CORS origins decide who may read the answer
    return await _checked(request, credentials, client)


async def authenticate_client_or_api(request: web.Request, form: Mapping[str, str]) -> Client | Api:
    """Introspection callers: a client, or an API with its own credentials (RFC 7662 §2.1).

    An id that is no client is looked up among the APIs (cached; at most one reload)."""
    credentials = await _credentials(request, form)
    client = await request.app[CLIENTS].get(credentials.client_id)
    if client is not None:
        return await _checked(request, credentials, client)
    api = (await request.app[APIS].with_client_id(credentials.client_id)).by_client_id(credentials.client_id)
    await _checked(request, credentials, _as_client(api, credentials) if api else None)
    assert api is not None
    return api


def _as_client(api: Api, credentials: ClientCredentials) -> Client:
    """An API's credentials checked like a confidential client's; Basic or post, both accepted."""
    method = credentials.method if credentials.method != "none" else "client_secret_basic"
    return Client(client_id=credentials.client_id, name=api.name, secret_hash=api.secret_hash, redirect_uris=(),
                  allowed_scopes=frozenset(), grant_types=frozenset(), token_endpoint_auth_method=method,
                  is_public=False)


async def _checked(request: web.Request, credentials: ClientCredentials, client: Client | None) -> Client:
    reason = check_client(credentials, client)
    if reason is not None or client is None:
        await _failed(request, credentials.client_id, credentials.method, reason or "unknown client")
        raise InvalidClient(AUTH_FAILED, used_basic=credentials.used_basic)
    note_client(request, client.client_id)
    return client


async def _admit(request: web.Request, client_id: str | None) -> None:
    address = client_address(request, request.app[SETTINGS].trusted_proxies)
    await request.app[RATE_LIMITER].admit(client_id, address)
