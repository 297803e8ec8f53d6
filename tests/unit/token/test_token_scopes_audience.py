"""core.scopes (RFC 6749 §6) and core.audience (RFC 8707 §2.2)."""

import pytest

from services.token.core.audience import token_audience
from services.token.core.scopes import narrowed
from shared.errors import InvalidScope, InvalidTarget

GRANTED = ("openid", "offline_access", "notes:read")


@pytest.mark.parametrize("requested, expected", [
    (None, GRANTED), (("notes:read",), ("notes:read",)), (GRANTED, GRANTED),
], ids=["no scope asked keeps the grant", "a subset narrows", "the same scope"])
def test_narrowing(requested, expected):
    assert narrowed(requested, GRANTED) == expected


def test_widening_is_invalid_scope():
    with pytest.raises(InvalidScope, match="notes:write"):
        narrowed(("notes:read", "notes:write"), GRANTED)


@pytest.mark.parametrize("requested, granted, expected", [
    (None, None, "https://api.default"), (None, "https://api.other", "https://api.other"),
    ("https://api.other", "https://api.other", "https://api.other"),
    ("https://api.default", None, "https://api.default"),
], ids=["nothing asked: the configured audience", "the grant's resource", "the grant's resource repeated",
        "the configured audience named explicitly"])
def test_token_audience(requested, granted, expected):
    assert token_audience(requested, granted, "https://api.default") == expected


@pytest.mark.parametrize("requested, granted", [
    ("https://evil.example", None), ("https://api.default", "https://api.other"),
], ids=["an unknown resource", "another resource than the grant's"])
def test_token_audience_refuses(requested, granted):
    with pytest.raises(InvalidTarget):
        token_audience(requested, granted, "https://api.default")
