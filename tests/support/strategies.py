"""Hypothesis strategies for attacker input: junk of every kind, and valid input with one mutation.

The property every parser of ours must keep: whatever arrives, it returns a value or raises its
own typed error (an OAuthError subclass, or MalformedParameters inside the one request parser).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

# Every code point, lone surrogates included: aiohttp decodes raw request bytes with
# "surrogateescape", so a header or query string can hold U+DC80..U+DCFF.
ANY_CHARACTER = st.characters(codec=None, exclude_categories=())
# What a parser meets most often (pieces of one or a few characters): the characters with a meaning
# in URLs, forms, base64 and JSON.
SIGNIFICANT = st.sampled_from(list("%&=+.:;,/_-~ \t\r\n\x00\x7f\x85\"'\\{}[]") + ["%C3", "%ZZ", "%0", "\udcff"])
ASCII = st.characters(min_codepoint=0, max_codepoint=127)

any_text = st.text(ANY_CHARACTER, max_size=200)
url_ish_text = st.lists(st.one_of(ASCII, SIGNIFICANT, ANY_CHARACTER), max_size=100).map("".join)
any_bytes = st.binary(max_size=300)


def huge(element: st.SearchStrategy[str], *, max_repeat: int = 20_000) -> st.SearchStrategy[str]:
    """One short piece repeated into a large input (up to ~1 MB): sizes a real body could reach."""
    return st.builds(lambda piece, times: piece * times, element.filter(bool), st.integers(1, max_repeat))


def junk_text() -> st.SearchStrategy[str]:
    return st.one_of(any_text, url_ish_text, huge(st.lists(st.one_of(ASCII, SIGNIFICANT), max_size=6).map("".join)))


@st.composite
def mutated(draw: Callable[[st.SearchStrategy[Any]], Any], valid: st.SearchStrategy[str]) -> str:
    """A valid input with exactly one edit: a character inserted, deleted or replaced, or a cut."""
    text: str = draw(valid)
    edit = draw(st.sampled_from(["insert", "delete", "replace", "truncate", "duplicate"]))
    if edit != "insert" and not text:
        edit = "insert"
    at = draw(st.integers(0, len(text) - (0 if edit == "insert" else 1)))
    if edit == "truncate":
        return text[:at]
    if edit == "delete":
        return text[:at] + text[at + 1:]
    if edit == "duplicate":
        return text[:at] + text[at:] + text[at:]
    new: str = draw(st.one_of(SIGNIFICANT, ANY_CHARACTER))
    return text[:at] + new + text[at + (1 if edit == "replace" else 0):]


# Numbers at the edges of what JSON readers, floats and 64-bit columns hold.
boundary_numbers = st.sampled_from([10**400, -(10**400), 2**1024, 2**63, -(2**63) - 1, 1e308, -0.0, 0, -1,
                                    float("nan"), float("inf"), float("-inf")])


def json_values(max_leaves: int = 10) -> st.SearchStrategy[Any]:
    """Any JSON value, with the awkward ones (huge ints, NaN, Infinity, -0.0) on purpose."""
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), any_text, boundary_numbers)
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(any_text, inner, max_size=4)),
                        max_leaves=max_leaves)
