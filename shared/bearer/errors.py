"""The OAuth error every Latchkey response and the verifier share (RFC 6749 §5.2, RFC 6750 §3).

It lives here, inside the verifier, so the verifier ships alone (``latchkey-bearer``) with the
same errors the server renders; ``shared.errors`` builds the server's other errors on
``OAuthError``. Each subclass carries its error code, HTTP status and, where the spec wants one,
the WWW-Authenticate challenge. No aiohttp here: rendering is ``responses.py``.
"""

from __future__ import annotations

from typing import ClassVar


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
        description = quote(self.description)
        if description:
            body["error_description"] = description
        return body

    def headers(self) -> dict[str, str]:
        return {}


class BearerError(OAuthError):
    """RFC 6750 §3: every bearer error carries a WWW-Authenticate challenge."""

    realm: ClassVar[str] = "latchkey"

    def __init__(self, description: str = "", *, scope: str = "") -> None:
        super().__init__(description)
        self.scope = scope

    def headers(self) -> dict[str, str]:
        params = [f'realm="{self.realm}"', f'error="{self.error}"']
        if self.description:
            params.append(f'error_description="{quote(self.description)}"')
        if self.scope:
            params.append(f'scope="{quote(self.scope)}"')
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
    """``reason`` is a fixed key for metrics and logs (expired, bad_signature, unknown_kid,
    wrong_audience, wrong_issuer, not_yet_valid, revoked, malformed), never the token's text."""

    error = "invalid_token"
    status = 401

    def __init__(self, description: str = "", *, scope: str = "", reason: str = "malformed") -> None:
        super().__init__(description, scope=scope)
        self.reason = reason


class InsufficientScope(BearerError):
    error = "insufficient_scope"
    status = 403


class VerifierUnavailable(BearerError):
    """Keys cannot be fetched: refuse with 503 rather than accept an unverifiable token.

    The body says temporarily_unavailable (RFC 6749's code for it); the challenge carries no
    error code, since RFC 6750 §3.1 defines none for "could not check" and a client must not
    take this for an invalid token."""

    error = "temporarily_unavailable"
    status = 503

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": f'Bearer realm="{self.realm}"'}


def quote(text: str) -> str:
    # RFC 6749 §5.2 and RFC 6750 §3: printable ASCII without '"' and '\'.
    return "".join(c for c in text if 0x20 <= ord(c) <= 0x7E and c not in '"\\')
