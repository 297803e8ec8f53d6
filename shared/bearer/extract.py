"""Where a bearer token may come from (RFC 6750 §2): the Authorization header or a form body.

The URI query parameter (§2.3) is deliberately not supported: query strings end up in logs and
Referer headers. A token in the query string is simply not seen.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .errors import InvalidBearerRequest, MissingToken

# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def token_from_header(values: Sequence[str]) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None when no bearer credentials were sent."""
    if not values:
        return None
    if len(values) > 1:
        raise InvalidBearerRequest("more than one Authorization header")
    scheme, _, credentials = values[0].strip(" ").partition(" ")
    if scheme.lower() != "bearer":
        if scheme.lower().split(None, 1)[:1] == ["bearer"]:
            # "Bearer<TAB>token": bearer credentials, but only SP may follow the scheme (RFC 9110 §11.4)
            raise InvalidBearerRequest("malformed Authorization header")
        return None  # another scheme (e.g. Basic) carries no bearer token
    credentials = credentials.strip(" ")
    if not _B64TOKEN.fullmatch(credentials):
        raise InvalidBearerRequest("malformed Authorization header")
    return credentials


def token_from_body(values: Sequence[str]) -> str | None:
    """RFC 6750 §2.2: the ``access_token`` form parameter, sent at most once."""
    if not values:
        return None
    if len(values) > 1:
        raise InvalidBearerRequest("access_token sent more than once")
    if not _B64TOKEN.fullmatch(values[0]):
        raise InvalidBearerRequest("malformed access_token parameter")
    return values[0]


def extract_token(header_values: Sequence[str], body_values: Sequence[str] = ()) -> str:
    """RFC 6750 §2: exactly one method per request; no credentials at all is a bare challenge (§3.1)."""
    from_header = token_from_header(header_values)
    from_body = token_from_body(body_values)
    if from_header is not None and from_body is not None:
        raise InvalidBearerRequest("token sent in more than one way")
    token = from_header if from_header is not None else from_body
    if token is None:
        raise MissingToken()
    return token
