"""The one scope grammar (RFC 6749 §3.3), for requests and for what tokens carry.

scope = scope-token *( SP scope-token ); scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
Tokens are case-sensitive; a repeated token adds nothing, so duplicates are dropped and the
request order kept. Which scopes a client may have is each endpoint's rule, not the grammar's.
"""

from __future__ import annotations

import re

from shared.errors import InvalidScope

_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


def parse_scope(raw: str | None) -> tuple[str, ...]:
    """The tokens of a scope parameter; invalid_scope when absent, empty or outside the grammar."""
    tokens = tuple(dict.fromkeys(token for token in (raw or "").split(" ") if token))
    if not tokens:
        raise InvalidScope("scope is required")
    if not all(_SCOPE_TOKEN.fullmatch(token) for token in tokens):
        raise InvalidScope("scope contains characters RFC 6749 section 3.3 does not allow")
    return tokens


def format_scope(scope: tuple[str, ...]) -> str:
    return " ".join(scope)
