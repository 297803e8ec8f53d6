"""Protocol errors as types (RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3, OIDC Core §3.1.2.6).

Each subclass carries its error code, HTTP status and, where the spec wants one, the
WWW-Authenticate challenge. Services render them in exactly one middleware; anything that is
not an ``OAuthError`` becomes ``server_error`` there and is logged, never shown.

``OAuthError`` and the bearer errors (RFC 6750 §3) are defined in ``shared.bearer.errors``, so
the verifier can ship on its own (``latchkey-bearer``); they are re-exported here unchanged.
"""

from __future__ import annotations

from shared.bearer.errors import (
    BearerError,
    InsufficientScope,
    InvalidBearerRequest,
    InvalidToken,
    MissingToken,
    OAuthError,
    VerifierUnavailable,
)

__all__ = [
    "AccessDenied", "BearerError", "ConfigError", "ConsentRequired", "InsufficientScope", "InvalidBearerRequest",
    "InvalidClient", "InvalidGrant", "InvalidRequest", "InvalidScope", "InvalidTarget", "InvalidToken",
    "LoginRequired", "MissingToken", "OAuthError", "ServerError", "TemporarilyUnavailable", "UnauthorizedClient",
    "UnsupportedGrantType", "UnsupportedResponseType", "UnsupportedTokenType", "UsageError", "VerifierUnavailable",
]


class ConfigError(Exception):
    """A setting is missing or unsafe; the message names the variable."""


class UsageError(Exception):
    """Bad input to the CLI; the message is one line for stderr."""


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
