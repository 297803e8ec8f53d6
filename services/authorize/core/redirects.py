"""Responses at the client's redirect URI (RFC 6749 §4.1.2 and §4.1.2.1, RFC 9207).

The registered URI's own query is kept (§3.1.2); every response carries ``iss`` so a client
talking to several servers can tell who answered (mix-up defence, RFC 9207 §2).
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from shared.errors import OAuthError


def with_query(uri: str, params: dict[str, str | None]) -> str:
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    parts = urlsplit(uri)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def code_response(redirect_uri: str, *, code: str, state: str | None, issuer: str) -> str:
    return with_query(redirect_uri, {"code": code, "state": state, "iss": issuer})


def error_response(redirect_uri: str, error: OAuthError, *, state: str | None, issuer: str) -> str:
    body = error.body()
    return with_query(redirect_uri, {"error": body["error"], "error_description": body.get("error_description"),
                                     "state": state, "iss": issuer})
