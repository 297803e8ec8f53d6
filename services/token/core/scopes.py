"""Refresh-time scope narrowing (RFC 6749 §6); the grammar is shared.oauth.scopes (§3.3)."""

from __future__ import annotations

from shared.errors import InvalidScope


def narrowed(requested: tuple[str, ...] | None, granted: tuple[str, ...]) -> tuple[str, ...]:
    """§6: a refresh may ask for less than was granted, never for more."""
    if requested is None:
        return granted
    extra = [s for s in requested if s not in granted]
    if extra:
        raise InvalidScope(f"scope {extra[0]!r} was not granted")
    return requested
