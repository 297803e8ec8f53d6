"""The one scope grammar (shared.oauth.scopes, RFC 6749 §3.3), tested once for every endpoint."""

import pytest

from shared.errors import InvalidScope
from shared.oauth.scopes import format_scope, parse_scope


@pytest.mark.parametrize("raw, expected", [
    ("openid", ("openid",)), ("openid  notes:read", ("openid", "notes:read")),
    ("b a b", ("b", "a")),
], ids=["one scope", "extra spaces ignored", "duplicates dropped, order kept"])
def test_parse_scope(raw, expected):
    assert parse_scope(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", 'open"id', "a\\b", "caf\u00e9", "a\tb"],
                         ids=["empty", "only spaces", "double quote", "backslash", "non-ascii", "tab"])
def test_malformed_scope_is_invalid_scope(raw):
    with pytest.raises(InvalidScope):
        parse_scope(raw)


def test_absent_scope_is_required():
    with pytest.raises(InvalidScope, match="scope is required"):
        parse_scope(None)


def test_format_joins_with_single_spaces():
    assert format_scope(("openid", "notes:read")) == "openid notes:read"
