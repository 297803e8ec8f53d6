"""The one request parser: application/x-www-form-urlencoded, strictly (RFC 6749 §3.1, §3.2, App. B).

Every endpoint's query string and form body goes through ``parse_urlencoded``. Anything a
browser or client could not have produced honestly (raw non-ASCII bytes, broken
percent-escapes, invalid UTF-8, control characters C0, DEL and C1) is rejected as a whole
instead of being guessed at; so is a request with too many parameters.

§3.1: a parameter sent without a value counts as omitted, and none may be sent more than once.
A repeat is counted even when one copy is empty (the strict reading); what a repeat means is the
endpoint's to say (the authorization endpoint must first know whether it may redirect; RFC 8707
lets resource repeat), so the parser records repeats instead of raising. ``single_values`` is the
token endpoints' strict form.

§3.1 and §3.2 also say an endpoint MUST ignore the parameters it does not recognise, so the
authorization and token endpoints parse with ``lenient=True``: a value that cannot be decoded is
then recorded under its name (``Params.malformed``) instead of refusing the request, and the
endpoint refuses it only if the name is one of its own (``Params.problem``). A name that cannot
be decoded is no name of ours, and is ignored. The endpoint must not take a malformed value of
its own for an omitted one: dropped, a redirect_uri would fall back to the registered one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import unquote_to_bytes

_BROKEN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# No parameter of ours may hold a control character (C0, DEL, C1); PostgreSQL refuses NUL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NOTHING_MALFORMED: Mapping[str, str] = MappingProxyType({})


class MalformedParameters(ValueError):
    """The input is not well-formed urlencoded UTF-8; the message says what is wrong."""


def has_control_character(value: str) -> bool:
    if value.isascii():  # the usual case; C1 is not ASCII, and there the others are what is not printable
        return not value.isprintable()
    return _CONTROL.search(value) is not None


@dataclass(frozen=True, slots=True)
class Params:
    """Every non-empty value of every parameter, in order, and the names sent more than once."""

    values: Mapping[str, tuple[str, ...]]
    repeated_names: frozenset[str] = field(default=frozenset())
    # Lenient parsing only: what is wrong with each parameter whose value could not be decoded.
    malformed: Mapping[str, str] = field(default_factory=lambda: _NOTHING_MALFORMED)

    def first(self, name: str) -> str | None:
        found = self.values.get(name)
        return found[0] if found else None

    def all(self, name: str) -> tuple[str, ...]:
        return self.values.get(name, ())

    def is_repeated(self, name: str) -> bool:
        return name in self.repeated_names

    def repeated(self) -> list[str]:
        return sorted(self.repeated_names)

    def problem(self, names: Iterable[str]) -> str | None:
        """What is wrong with the first of ``names`` sent malformed (lenient parsing); None if none was."""
        if not self.malformed:
            return None
        return next((self.malformed[name] for name in names if name in self.malformed), None)

    def pairs(self) -> Iterator[tuple[str, str]]:
        """Every (name, value), repeated names as often as they came: to send the request on."""
        for name, values in self.values.items():
            for value in values:
                yield name, value


def parse_urlencoded(raw: str | bytes, *, max_params: int, lenient: bool = False) -> Params:
    """``lenient``: a malformed value is recorded in ``malformed`` and a malformed name ignored,
    instead of refusing the whole request (see the module's docstring)."""
    # A query string is text, but aiohttp's pure-Python HTTP parser hands on raw non-ASCII bytes
    # (as surrogate escapes, which no encoder accepts): refuse them exactly as in a body (leniently,
    # only the pairs that hold them).
    ascii_only = raw.isascii()
    if not ascii_only:
        if not lenient:
            raise MalformedParameters("the request contains characters that are not percent-encoded")
        # Each pair is then decoded and checked on its own; latin-1 keeps every byte as a character.
        raw = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    elif isinstance(raw, bytes):
        raw = raw.decode("ascii")
    pairs = [pair for pair in raw.split("&") if pair] if raw else []
    if len(pairs) > max_params:
        raise MalformedParameters(f"the request has more than {max_params} parameters")
    # A control character sent as is shows in the raw text; only a percent-escape can hide one.
    # So the text is searched once, and then only the values that had an escape are again. In
    # ASCII text the characters that are not printable are exactly _CONTROL's (C0 and DEL), and
    # isprintable looks at each far faster than the expression does.
    checked = ascii_only and raw.isprintable()
    values: dict[str, list[str]] = {}  # every name seen, with its non-empty values
    repeated: set[str] = set()
    malformed: dict[str, str] = {}
    for pair in pairs:
        raw_name, _, raw_value = pair.partition("=")
        if checked and "%" not in pair:  # most pairs (codes, tokens, verifiers): nothing to unescape
            name, value = raw_name.replace("+", " "), raw_value.replace("+", " ")
        elif not lenient:
            name = _decode(raw_name, None, checked)
            value = _decode(raw_value, name, checked)
        else:
            try:
                name = _decode(raw_name, None, checked)
            except MalformedParameters:
                continue  # no parameter of ours has such a name: ignored (§3.1)
            try:
                value = _decode(raw_value, name, checked)
            except MalformedParameters as exc:
                malformed.setdefault(name, str(exc))
                value = ""  # sent, so it still counts as a repeat; its value is unusable
        found = values.get(name)
        if found is None:
            found = values[name] = []
        else:
            repeated.add(name)
        if value:
            found.append(value)
    return Params(MappingProxyType({name: tuple(found) for name, found in values.items() if found}),
                  frozenset(repeated), MappingProxyType(malformed) if malformed else _NOTHING_MALFORMED)


def single_values(params: Params, defined: frozenset[str]) -> Mapping[str, str]:
    """The strict form of §3.2 for the token, revocation and introspection endpoints: one value of
    each parameter the endpoint ``defined``; others are ignored, repeated or malformed or not (§3.1)."""
    if (problem := params.problem(defined)) is not None:
        raise MalformedParameters(problem)
    for name in params.repeated():
        if name in defined:
            raise MalformedParameters(f"parameter {name} is repeated")
    return {name: found[0] for name, found in params.values.items()}


def _decode(text: str, name: str | None, checked: bool) -> str:
    """One name (``name`` None) or the value of parameter ``name``, unescaped and checked
    (``checked``: the raw text holds no control character, so one without an escape is fine)."""
    if not text.isascii():  # only where lenient parsing let non-ASCII text through to here
        raise MalformedParameters(f"{_what(name)} contains characters that are not percent-encoded")
    if "%" not in text:
        decoded = text.replace("+", " ")
        if checked:
            return decoded
    elif _BROKEN_ESCAPE.search(text):
        raise MalformedParameters(f"{_what(name)} contains a broken percent-escape")
    else:
        try:
            decoded = unquote_to_bytes(text.replace("+", " ")).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedParameters(f"{_what(name)} is not valid UTF-8") from None
    if has_control_character(decoded):
        raise MalformedParameters(f"{_what(name)} contains a control character")
    return decoded


def _what(name: str | None) -> str:
    return "a parameter name" if name is None else f"parameter {name}"
