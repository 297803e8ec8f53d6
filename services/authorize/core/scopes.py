"""Scope rules (RFC 6749 §3.3, OIDC Core §5.4 and §11) and their plain-language descriptions."""

from __future__ import annotations

import re

from shared.errors import InvalidScope
from shared.models import STANDARD_SCOPES, Client

OFFLINE_ACCESS = "offline_access"
# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


def parse_scope(raw: str | None, client: Client) -> tuple[str, ...]:
    """The requested scopes in request order, each known and allowed for ``client``."""
    if raw is None:
        raise InvalidScope("scope is required")
    tokens = tuple(dict.fromkeys(token for token in raw.split(" ") if token))
    if not tokens:
        raise InvalidScope("scope is required")
    for token in tokens:
        if not _SCOPE_TOKEN.fullmatch(token):
            raise InvalidScope("scope contains characters RFC 6749 section 3.3 does not allow")
        if token not in STANDARD_SCOPES or token not in client.allowed_scopes:
            raise InvalidScope(f"scope {token} is not allowed for this client")
    return tokens


def describe(scope: tuple[str, ...]) -> list[tuple[str, str]]:
    """(scope, plain words) for the consent screen, in request order."""
    return [(token, STANDARD_SCOPES.get(token, token)) for token in scope]
