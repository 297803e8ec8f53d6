"""Typed members of a JSON request body: each getter returns the member or raises ``InvalidInput``
(422) naming it. A message names the member and the type it wants, never the value sent: a
password or a secret must not come back in an error (nor reach a log through one)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.management.errors import InvalidInput

# A list member holds at most this many entries before the operation's own limits look at it.
MAX_ITEMS = 100


def _wrong(name: str, wanted: str) -> InvalidInput:
    return InvalidInput(f"{name} must be {wanted}")


def string(body: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    """A string member; absent is None (or 422 when ``required``); null is never a string."""
    if name not in body:
        if required:
            raise InvalidInput(f"{name} is required")
        return None
    value = body[name]
    if not isinstance(value, str):
        raise _wrong(name, "a string")
    if "\x00" in value:  # PostgreSQL text cannot hold NUL: refused here, not as a 500 there
        raise _wrong(name, "a string without NUL characters")
    return value


def clearable_string(body: Mapping[str, Any], name: str) -> str | None:
    """A string member where null (or "") clears the value: absent is None, null is ""."""
    if body.get(name, "") is None:
        return ""
    return string(body, name)


def strings(body: Mapping[str, Any], name: str, *, required: bool = False) -> tuple[str, ...] | None:
    """An array of strings; absent is None (or 422 when ``required``)."""
    if name not in body:
        if required:
            raise InvalidInput(f"{name} is required")
        return None
    values = body[name]
    if not isinstance(values, list) or not all(isinstance(v, str) and "\x00" not in v for v in values):
        raise _wrong(name, "an array of strings")
    if len(values) > MAX_ITEMS:
        raise _wrong(name, f"an array of at most {MAX_ITEMS} strings")
    return tuple(values)


def boolean(body: Mapping[str, Any], name: str) -> bool | None:
    if name not in body:
        return None
    value = body[name]
    if not isinstance(value, bool):
        raise _wrong(name, "true or false")
    return value


def integer(body: Mapping[str, Any], name: str) -> int | None:
    if name not in body:
        return None
    value = body[name]
    # JSON Schema (OpenAPI 3.1) counts 60.0 as an integer, as the document promises; true and
    # false are ints to Python, not to JSON.
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is not int:  # noqa: E721
        raise _wrong(name, "an integer")
    return value
