"""The one request parser (shared.oauth.params), tested once for every endpoint: what is accepted,
what is refused as malformed (RFC 6749 §3.1, §3.2, Appendix B)."""

import pytest

from shared.oauth.params import MalformedParameters, parse_urlencoded, single_values


@pytest.mark.parametrize("raw, expected", [
    pytest.param("a=1&b=2", {"a": ("1",), "b": ("2",)}, id="plain pairs"),
    pytest.param("a=x+y%2B", {"a": ("x y+",)}, id="plus is a space, %2B is a plus"),
    pytest.param("n=caf%C3%A9", {"n": ("caf\u00e9",)}, id="UTF-8 percent-escapes decode"),
    pytest.param("a=1&a=2", {"a": ("1", "2")}, id="repeated values keep their order"),
    pytest.param("a=&b", {}, id="empty values count as absent (RFC 6749 3.1)"),
    pytest.param("a=1&&b=2&", {"a": ("1",), "b": ("2",)}, id="empty pairs are skipped"),
    pytest.param("", {}, id="empty input"),
    pytest.param("s=%3Cscript%3E", {"s": ("<script>",)}, id="markup is just text here"),
    pytest.param(b"a=1", {"a": ("1",)}, id="bytes input"),
    pytest.param("a=&b=1&a=2", {"a": ("2",), "b": ("1",)}, id="an empty first value does not hide a later one"),
])
def test_accepted(raw, expected):
    assert dict(parse_urlencoded(raw, max_params=10).values) == expected


@pytest.mark.parametrize("raw, reason", [
    pytest.param("a=%ZZ", "broken percent-escape", id="non-hex escape"),
    pytest.param("a=%4", "broken percent-escape", id="truncated escape"),
    pytest.param("a=%FF%FE", "not valid UTF-8", id="invalid UTF-8"),
    pytest.param("a=%C3", "not valid UTF-8", id="truncated UTF-8 sequence"),
    pytest.param("a=%00", "parameter a contains a control character", id="NUL byte"),
    pytest.param("a=x%0Ay", "parameter a contains a control character", id="newline"),
    pytest.param("a=x%7F", "parameter a contains a control character", id="DEL"),
    pytest.param("a=x%C2%85", "parameter a contains a control character", id="a C1 control (NEL)"),
    pytest.param("a%00=1", "a parameter name contains a control character", id="a control character in a name"),
    # Sent as is, not escaped: found by the one search over the whole text, still named precisely.
    pytest.param("a=1&b=x\ty", "parameter b contains a control character", id="a raw tab"),
    pytest.param("a=1&b\x7f=2", "a parameter name contains a control character", id="a raw DEL in a name"),
    pytest.param("a=x%41&b=\x00", "parameter b contains a control character", id="a raw NUL beside an escape"),
    pytest.param(b"a=caf\xc3\xa9", "not percent-encoded", id="raw non-ASCII bytes in a body"),
    pytest.param("a=caf\u00e9", "not percent-encoded", id="raw non-ASCII in a query string"),
    # aiohttp's pure-Python HTTP parser passes raw bytes on as surrogate escapes (found by Hypothesis)
    pytest.param("a=caf\udcc3\udca9", "not percent-encoded", id="raw bytes as surrogate escapes"),
    pytest.param("&".join(f"p{i}=1" for i in range(11)), "more than 10 parameters", id="too many parameters"),
])
def test_refused(raw, reason):
    with pytest.raises(MalformedParameters, match=reason):
        parse_urlencoded(raw, max_params=10)


def test_helpers():
    params = parse_urlencoded("a=1&a=2&b=3", max_params=10)
    assert (params.first("a"), params.first("z"), params.all("a")) == ("1", None, ("1", "2"))
    assert params.is_repeated("a") and not params.is_repeated("b")
    assert params.repeated() == ["a"]


@pytest.mark.parametrize("raw, repeated", [
    pytest.param("a=1&a=2", ["a"], id="twice with values"),
    pytest.param("a=1&a=", ["a"], id="twice, once empty (the strict reading of 3.1)"),
    pytest.param("a=1&b=", [], id="an empty value alone is just absent"),
])
def test_repeats_are_recorded(raw, repeated):
    assert parse_urlencoded(raw, max_params=10).repeated() == repeated


def test_single_values_refuses_a_repeat_of_a_defined_name_and_keeps_the_rest():
    assert single_values(parse_urlencoded("a=1&b=&c=3", max_params=10), frozenset("a")) == {"a": "1", "c": "3"}
    with pytest.raises(MalformedParameters, match="parameter a is repeated"):
        single_values(parse_urlencoded("a=1&a=", max_params=10), frozenset("a"))


def test_single_values_ignores_a_repeat_of_a_name_the_endpoint_does_not_define():
    """RFC 6749 §3.1: unrecognized parameters are ignored, repeated or not."""
    assert single_values(parse_urlencoded("a=1&x=2&x=3", max_params=10), frozenset("a")) == {"a": "1", "x": "2"}


B_IS_RAW = "parameter b contains characters that are not percent-encoded"


@pytest.mark.parametrize("raw, values, malformed", [
    pytest.param("a=1&b=%01", {"a": ("1",)}, {"b": "parameter b contains a control character"},
                 id="a control character"),
    pytest.param("b=%ZZ&a=1", {"a": ("1",)}, {"b": "parameter b contains a broken percent-escape"},
                 id="a broken escape"),
    pytest.param("a=1&b=caf\u00e9", {"a": ("1",)}, {"b": B_IS_RAW}, id="raw non-ASCII in a query string"),
    pytest.param(b"a=1&b=caf\xc3\xa9", {"a": ("1",)}, {"b": B_IS_RAW}, id="raw non-ASCII bytes"),
    pytest.param("a=1&b%00=2&caf\u00e9=3", {"a": ("1",)}, {}, id="a name that is no name of ours is ignored"),
])
def test_lenient_parsing_records_a_bad_value_under_its_name(raw, values, malformed):
    params = parse_urlencoded(raw, max_params=10, lenient=True)
    assert (dict(params.values), dict(params.malformed)) == (values, malformed)


def test_a_malformed_copy_still_counts_as_a_repeat():
    params = parse_urlencoded("a=1&a=%01", max_params=10, lenient=True)
    assert params.is_repeated("a") and params.first("a") == "1" and params.problem(["a"]) is not None


def test_lenient_parsing_still_limits_the_parameters():
    with pytest.raises(MalformedParameters, match="more than 10 parameters"):
        parse_urlencoded("&".join(f"p{i}=%01" for i in range(11)), max_params=10, lenient=True)


def test_single_values_refuses_a_malformed_defined_name_and_ignores_the_others():
    params = parse_urlencoded("a=1&x=%01&x=2", max_params=10, lenient=True)
    assert single_values(params, frozenset("a")) == {"a": "1", "x": "2"}
    with pytest.raises(MalformedParameters, match="parameter x contains a control character"):
        single_values(params, frozenset("ax"))
