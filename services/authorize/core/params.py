"""Parsing application/x-www-form-urlencoded input strictly (RFC 6749 §3.1, Appendix B).

Query strings and form bodies go through the same parser. Anything a browser or client could
not have produced honestly (broken percent-escapes, invalid UTF-8, control characters) is
rejected as a whole instead of being guessed at; so is a request with too many parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping
from urllib.parse import unquote_to_bytes

_BROKEN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class MalformedParameters(ValueError):
    """The input is not well-formed urlencoded UTF-8; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Params:
    """Every value of every parameter, in order; empty values count as absent (RFC 6749 §3.1)."""

    values: Mapping[str, tuple[str, ...]]

    def first(self, name: str) -> str | None:
        found = self.values.get(name)
        return found[0] if found else None

    def all(self, name: str) -> tuple[str, ...]:
        return self.values.get(name, ())

    def is_repeated(self, name: str) -> bool:
        return len(self.values.get(name, ())) > 1

    def repeated(self) -> list[str]:
        return sorted(name for name, found in self.values.items() if len(found) > 1)


def parse_urlencoded(raw: str | bytes, *, max_params: int) -> Params:
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedParameters("the request contains characters that are not percent-encoded") from None
    pairs = [pair for pair in raw.split("&") if pair] if raw else []
    if len(pairs) > max_params:
        raise MalformedParameters(f"the request has more than {max_params} parameters")
    values: dict[str, list[str]] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        name, value = _decode(name), _decode(value)
        if value:
            values.setdefault(name, []).append(value)
    return Params(MappingProxyType({name: tuple(found) for name, found in values.items()}))


def _decode(text: str) -> str:
    if _BROKEN_ESCAPE.search(text):
        raise MalformedParameters("the request contains a broken percent-escape")
    try:
        decoded = unquote_to_bytes(text.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedParameters("the request is not valid UTF-8") from None
    if _CONTROL.search(decoded):
        raise MalformedParameters("the request contains control characters")
    return decoded
