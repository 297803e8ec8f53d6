"""A token whose user was deleted or disabled: refused like any other bearer token the verifier
refuses (RFC 6750 §3.1 invalid_token), and counted with them (``latchkey_bearer_refused_total``,
reason ``inactive_user``, and the ``bearer_refused`` security event)."""

from __future__ import annotations

from aiohttp import web

from services.resource.app_keys import METRICS
from shared.errors import InvalidToken

INACTIVE_USER = "inactive_user"


def inactive_user(request: web.Request) -> InvalidToken:
    """The error to raise; the refusal is counted as it is made."""
    request.app[METRICS].bearer_token_refused(INACTIVE_USER)
    return InvalidToken("the token's user no longer exists or is disabled")
