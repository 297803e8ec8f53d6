"""Scope values (RFC 6749 §3.3) and refresh-time narrowing (§6)."""

from __future__ import annotations

import re

from shared.errors import InvalidScope

_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")


def parse_scope(raw: str) -> tuple[str, ...]:
    """Space-delimited, case-sensitive scope tokens, duplicates dropped, order kept."""
    tokens = [t for t in raw.split(" ") if t]
    if not tokens or not all(_SCOPE_TOKEN.fullmatch(t) for t in tokens):
        raise InvalidScope("scope is malformed")
    return tuple(dict.fromkeys(tokens))


def narrowed(requested: tuple[str, ...] | None, granted: tuple[str, ...]) -> tuple[str, ...]:
    """§6: a refresh may ask for less than was granted, never for more."""
    if requested is None:
        return granted
    extra = [s for s in requested if s not in granted]
    if extra:
        raise InvalidScope(f"scope {extra[0]!r} was not granted")
    return requested


def format_scope(scope: tuple[str, ...]) -> str:
    return " ".join(scope)
