"""Protocol errors as types (RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3, OIDC Core §3.1.2.6).

Each subclass carries its error code, HTTP status and, where the spec wants one, the
WWW-Authenticate challenge. Services render them in exactly one middleware; anything that is
not an ``OAuthError`` becomes ``server_error`` there and is logged, never shown.
"""

from __future__ import annotations

from typing import ClassVar


class ConfigError(Exception):
    """A setting is missing or unsafe; the message names the variable."""


class UsageError(Exception):
    """Bad input to the CLI; the message is one line for stderr."""


class OAuthError(Exception):
    error: ClassVar[str] = "server_error"
    status: ClassVar[int] = 400

    def __init__(self, description: str = "") -> None:
        super().__init__(description or self.error)
        self.description = description

    def body(self) -> dict[str, str]:
        """RFC 6749 §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E, so
        whatever a description quotes from the request is filtered to that here, once."""
        body = {"error": self.error}
        description = _quote(self.description)
        if description:
            body["error_description"] = description
        return body

    def headers(self) -> dict[str, str]:
        return {}


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    """RFC 6749 §5.2: 401, with a challenge for the scheme the client tried."""

    error = "invalid_client"
    status = 401

    def __init__(self, description: str = "", *, used_basic: bool = False) -> None:
        super().__init__(description)
        self.used_basic = used_basic

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Basic realm="latchkey"'} if self.used_basic else {}


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class UnsupportedResponseType(OAuthError):
    error = "unsupported_response_type"


class UnsupportedTokenType(OAuthError):
    error = "unsupported_token_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class InvalidTarget(OAuthError):
    """RFC 8707 §2: the requested resource is not allowed."""

    error = "invalid_target"


class AccessDenied(OAuthError):
    error = "access_denied"
    status = 403


class LoginRequired(OAuthError):
    error = "login_required"


class ConsentRequired(OAuthError):
    error = "consent_required"


class ServerError(OAuthError):
    error = "server_error"
    status = 500


class TemporarilyUnavailable(OAuthError):
    error = "temporarily_unavailable"
    status = 503


class BearerError(OAuthError):
    """RFC 6750 §3: every bearer error carries a WWW-Authenticate challenge."""

    realm: ClassVar[str] = "latchkey"

    def __init__(self, description: str = "", *, scope: str = "") -> None:
        super().__init__(description)
        self.scope = scope

    def headers(self) -> dict[str, str]:
        params = [f'realm="{self.realm}"', f'error="{self.error}"']
        if self.description:
            params.append(f'error_description="{_quote(self.description)}"')
        if self.scope:
            params.append(f'scope="{_quote(self.scope)}"')
        return {"WWW-Authenticate": "Bearer " + ", ".join(params)}


class MissingToken(BearerError):
    """RFC 6750 §3.1: no credentials at all gets a bare challenge, no error attribute."""

    error = "invalid_request"
    status = 401

    def body(self) -> dict[str, str]:
        return {}

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": f'Bearer realm="{self.realm}"'}


class InvalidBearerRequest(BearerError):
    error = "invalid_request"
    status = 400


class InvalidToken(BearerError):
    error = "invalid_token"
    status = 401


class InsufficientScope(BearerError):
    error = "insufficient_scope"
    status = 403


class VerifierUnavailable(BearerError):
    """Keys cannot be fetched: refuse with 503 rather than accept an unverifiable token."""

    error = "temporarily_unavailable"
    status = 503


def _quote(text: str) -> str:
    # RFC 6749 §5.2 and RFC 6750 §3: printable ASCII without '"' and '\'.
    return "".join(c for c in text if 0x20 <= ord(c) <= 0x7E and c not in '"\\')
