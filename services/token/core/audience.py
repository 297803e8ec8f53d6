"""The audience of an access token: configured, or the RFC 8707 resource of the grant.

RFC 8707 §2.2: at the token endpoint a client may repeat the resource it asked for at
authorization; the token is then audience-restricted to it. Any other value is invalid_target.
"""

from __future__ import annotations

from shared.errors import InvalidTarget


def token_audience(requested: str | None, granted: str | None, default: str) -> str:
    allowed = granted or default
    if requested is not None and requested != allowed:
        raise InvalidTarget("the requested resource was not granted")
    return allowed
