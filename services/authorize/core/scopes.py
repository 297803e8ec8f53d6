"""Which scopes a client may request (OIDC Core §5.4 and §11), and their plain-language descriptions.

The grammar itself is shared.oauth.scopes (RFC 6749 §3.3).
"""

from __future__ import annotations

from shared.errors import InvalidScope
from shared.models import STANDARD_SCOPES, Client
from shared.oauth.scopes import parse_scope

OFFLINE_ACCESS = "offline_access"


def requested_scope(raw: str | None, client: Client) -> tuple[str, ...]:
    """The requested scopes in request order, each known and allowed for ``client``."""
    tokens = parse_scope(raw)
    for token in tokens:
        if token not in STANDARD_SCOPES or token not in client.allowed_scopes:
            raise InvalidScope(f"scope {token} is not allowed for this client")
    return tokens


def describe(scope: tuple[str, ...]) -> list[tuple[str, str]]:
    """(scope, plain words) for the consent screen, in request order."""
    return [(token, STANDARD_SCOPES.get(token, token)) for token in scope]
