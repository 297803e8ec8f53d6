"""Errors of the authorization endpoint beyond shared.errors.

``CannotRedirect`` is the RFC 6749 §4.1.2.1 case where the client or redirect URI is not
verified: the user sees an error page and is never sent anywhere. OIDC Core §3.1.2.6 adds
error codes for request objects and the registration parameter, which this server does not support.
"""

from __future__ import annotations

from shared.errors import OAuthError


class CannotRedirect(Exception):
    """The request cannot be answered at the client's redirect URI; shown to the user instead.

    ``reason`` is the fixed key the access line gets (never the message, which may quote the
    request). ``client_id`` names the client when the request is known to come from a registered
    one: the page then links back to its ``client_uri``. ``redirect_uri_sent`` and ``registered``
    are what a developer needs to fix a redirect URI error; only a dev deployment shows them.
    """

    def __init__(self, message: str, *, status: int = 400, reason: str = "cannot_redirect",
                 client_id: str | None = None, redirect_uri_sent: str | None = None,
                 registered: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.client_id = client_id
        self.redirect_uri_sent = redirect_uri_sent
        self.registered = registered


class RequestNotSupported(OAuthError):
    error = "request_not_supported"


class RequestUriNotSupported(OAuthError):
    error = "request_uri_not_supported"


class RegistrationNotSupported(OAuthError):
    error = "registration_not_supported"
