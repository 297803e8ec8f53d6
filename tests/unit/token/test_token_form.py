"""core.form: form-urlencoded bodies only, malformed ones are invalid_request (RFC 6749 §3.1, §3.2)."""

import pytest

from services.token.core.form import check_content_type, parse_form, required
from shared.errors import InvalidRequest, InvalidTarget


def test_parse_form_gives_one_value_per_parameter():
    assert parse_form(b"grant_type=authorization_code&code=&x=%2B", max_params=50) == {
        "grant_type": "authorization_code", "x": "+"}


def test_a_repeated_parameter_these_endpoints_do_not_define_is_ignored():
    """RFC 6749 §3.1: "MUST ignore unrecognized request parameters", repeated ones too."""
    assert parse_form(b"grant_type=x&foo=1&foo=2&bar=&bar=3", max_params=50) == {
        "grant_type": "x", "foo": "1", "bar": "3"}


def test_resource_may_repeat_one_value_but_not_name_two():
    """RFC 8707 §2: several resource parameters may be sent; a token here has one audience."""
    assert parse_form(b"resource=https%3A%2F%2Fapi.example&resource=https%3A%2F%2Fapi.example",
                      max_params=50) == {"resource": "https://api.example"}
    with pytest.raises(InvalidTarget, match="only one resource"):
        parse_form(b"resource=https%3A%2F%2Fa.example&resource=https%3A%2F%2Fb.example", max_params=50)


def test_a_malformed_parameter_these_endpoints_do_not_define_is_ignored():
    """RFC 6749 §3.2: "MUST ignore unrecognized request parameters", however malformed."""
    assert parse_form(b"grant_type=x&foo=%01&bar=%ZZ&b%00z=1", max_params=50) == {"grant_type": "x"}


@pytest.mark.parametrize("body, message", [
    (b"code=a&code=b", "parameter code is repeated"),
    (b"a=1&b=2&c=3", "more than 2 parameters"),
    (b"client_id=lk%00app", "parameter client_id contains a control character"),
    (b"resource=%FF", "parameter resource is not valid UTF-8"),
], ids=["a parameter twice", "more parameters than the limit", "a control character", "a malformed resource"])
def test_malformed_bodies_are_invalid_request(body, message):
    """The parser's rules are tested once (tests/unit/test_params.py); here only their mapping."""
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
