"""core.form: form-urlencoded bodies only, repeated parameters and control characters refused
(RFC 6749 §3.1, §3.2)."""

import pytest

from services.token.core.form import check_content_type, parse_form, required
from shared.errors import InvalidRequest


@pytest.mark.parametrize("body, expected", [
    (b"grant_type=authorization_code&code=abc", {"grant_type": "authorization_code", "code": "abc"}),
    (b"scope=openid+email&x=%2B%3A", {"scope": "openid email", "x": "+:"}),
    (b"code=&grant_type=refresh_token", {"grant_type": "refresh_token"}),
    (b"", {}),
    ("name=J%C3%BCrgen".encode(), {"name": "Jürgen"}),
], ids=["plain pairs", "plus and percent decoding", "an empty value counts as omitted", "empty body",
        "utf-8 percent escapes"])
def test_parse_form_accepts(body, expected):
    assert parse_form(body, max_params=50) == expected


@pytest.mark.parametrize("body, message", [
    (b"code=a&code=b", "code is repeated"),
    (b"code=a&code=", "code is repeated"),
    (b"a=1&b=2&c=3", "too many parameters"),
    (b"code=%FF", "not valid UTF-8"),
    (b"code=\xff", "not valid UTF-8"),
    (b"client_id=lk%00app", "client_id contains a control character"),
    (b"resource=%00", "resource contains a control character"),
    (b"code=a%0Ab", "code contains a control character"),
    (b"code=a%7F", "code contains a control character"),
    (b"code=a%C2%85", "code contains a control character"),
], ids=["a parameter twice", "a parameter twice, once empty", "more parameters than the limit",
        "a percent escape that is not UTF-8", "raw bytes that are not UTF-8", "a NUL inside a value",
        "a value that is only NUL", "a line feed", "DEL", "a C1 control (NEL)"])
def test_parse_form_refuses(body, message):
    with pytest.raises(InvalidRequest, match=message):
        parse_form(body, max_params=2)


@pytest.mark.parametrize("content_type, charset", [
    ("application/x-www-form-urlencoded", None), ("application/x-www-form-urlencoded", "UTF-8"),
], ids=["no charset", "utf-8 charset"])
def test_form_content_types_are_accepted(content_type, charset):
    check_content_type(content_type, charset)


@pytest.mark.parametrize("content_type, charset", [
    ("application/json", None), ("multipart/form-data", None), ("text/plain", None),
    ("application/x-www-form-urlencoded", "latin-1"),
], ids=["json", "multipart", "text", "a charset other than utf-8"])
def test_other_content_types_are_invalid_request(content_type, charset):
    with pytest.raises(InvalidRequest):
        check_content_type(content_type, charset)


def test_required_names_the_missing_parameter():
    assert required({"code": "x"}, "code") == "x"
    with pytest.raises(InvalidRequest, match="missing parameter 'code'"):
        required({}, "code")
