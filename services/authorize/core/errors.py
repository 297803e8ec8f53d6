"""Errors of the authorization endpoint beyond shared.errors.

``CannotRedirect`` is the RFC 6749 §4.1.2.1 case where the client or redirect URI is not
verified: the user sees an error page and is never sent anywhere. OIDC Core §3.1.2.6 adds
error codes for request objects, which this server does not support.
"""

from __future__ import annotations

from shared.errors import OAuthError


class CannotRedirect(Exception):
    """The request cannot be answered at the client's redirect URI; shown to the user instead."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class RequestNotSupported(OAuthError):
    error = "request_not_supported"


class RequestUriNotSupported(OAuthError):
    error = "request_uri_not_supported"
