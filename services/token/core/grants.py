"""Which grant a token request uses (RFC 6749 §4.1.3, §6) and the handler for each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum

from services.token.core.code_grant import exchange_code
from services.token.core.context import GrantContext, TokenRequest
from services.token.core.form import required
from services.token.core.issuer import TokenResponse
from services.token.core.refresh_grant import refresh
from shared.errors import UnauthorizedClient, UnsupportedGrantType
from shared.models import Client


class GrantType(StrEnum):
    AUTHORIZATION_CODE = "authorization_code"
    REFRESH_TOKEN = "refresh_token"


GrantHandler = Callable[[TokenRequest, GrantContext], Awaitable[TokenResponse]]

GRANT_HANDLERS: dict[GrantType, GrantHandler] = {
    GrantType.AUTHORIZATION_CODE: exchange_code,
    GrantType.REFRESH_TOKEN: refresh,
}
# By value: the enum's own lookup by value (GrantType(raw)) goes through its metaclass, on every
# token request.
_BY_VALUE: dict[str, GrantType] = {grant_type.value: grant_type for grant_type in GrantType}


def grant_type_of(form: Mapping[str, str], client: Client) -> GrantType:
    """§5.2: unsupported_grant_type for what we do not implement, unauthorized_client for what
    this client was not registered to use."""
    raw = required(form, "grant_type")
    grant_type = _BY_VALUE.get(raw)
    if grant_type is None:
        raise UnsupportedGrantType("this grant_type is not supported")
    if grant_type not in client.grant_types:
        raise UnauthorizedClient(f"this client may not use the {grant_type} grant")
    return grant_type
