"""Properties of the one request parser (shared.oauth.params, RFC 6749 §3.1, §3.2, Appendix B) and of
the token endpoints' form reading (services.token.core.form): any input is a value or a typed error."""

from urllib.parse import quote, quote_plus, urlencode

from hypothesis import given
from hypothesis import strategies as st

from services.token.core.form import SINGLE_VALUED, parse_form
from shared.errors import InvalidRequest, InvalidTarget
from shared.oauth.params import MalformedParameters, Params, has_control_character, parse_urlencoded, single_values
from tests.support.strategies import any_bytes, huge, junk_text, mutated

MAX_PARAMS = 50

# What an honest client may send: any text without control characters (and no lone surrogates,
# which no UTF-8 encoder produces).
plain_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=30)
forms = st.dictionaries(plain_text, plain_text.filter(bool), max_size=10)
encoded_forms = forms.map(urlencode)
raw_inputs = st.one_of(junk_text(), mutated(encoded_forms), any_bytes,
                       mutated(encoded_forms).map(lambda t: t.encode("utf-8", "surrogatepass")),
                       huge(st.sampled_from(["a=1&", "&", "%", "=", "a", "%C3%A9", "%00", "+"])))


def _check_params(params: Params) -> None:
    """What a handler may rely on after a successful parse."""
    assert isinstance(params, Params)
    for name, values in params.values.items():
        assert isinstance(name, str) and not has_control_character(name)
        assert values and all(isinstance(v, str) and v and not has_control_character(v) for v in values)
    assert params.repeated_names <= set(params.values) | params.repeated_names


@given(raw_inputs)
def test_any_input_is_params_or_malformed(raw):
    try:
        params = parse_urlencoded(raw, max_params=MAX_PARAMS)
    except MalformedParameters:
        return
    _check_params(params)
    # Where strict parsing accepts, lenient parsing (the authorization and token endpoints') agrees.
    assert parse_urlencoded(raw, max_params=MAX_PARAMS, lenient=True) == params
    # Only what can be encoded as UTF-8 is ever handed on (PostgreSQL and Redis get every value).
    for name, values in params.values.items():
        for text in (name, *values):
            text.encode("utf-8")


@given(raw_inputs)
def test_any_input_has_single_values_or_is_malformed(raw):
    try:
        form = single_values(parse_urlencoded(raw, max_params=MAX_PARAMS), SINGLE_VALUED)
    except MalformedParameters:
        return
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in form.items())


@given(st.one_of(any_bytes, mutated(encoded_forms).map(lambda t: t.encode("utf-8", "surrogatepass")),
                 huge(st.sampled_from([b"grant_type=x&", b"&", b"%", b"a=%FF"]).map(bytes.decode)).map(str.encode)))
def test_token_body_is_a_form_or_invalid_request(body):
    try:
        form = parse_form(body, MAX_PARAMS)
    except (InvalidRequest, InvalidTarget) as exc:  # invalid_target: two resources (RFC 8707 §2)
        assert exc.body()["error"] in ("invalid_request", "invalid_target")
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in form.items())


@given(forms, st.booleans())
def test_urlencoded_form_parses_back(form, as_bytes):
    raw = urlencode(form)
    params = parse_urlencoded(raw.encode("ascii") if as_bytes else raw, max_params=MAX_PARAMS)
    assert dict(params.values) == {name: (value,) for name, value in form.items()}
    assert not params.repeated_names
    assert parse_form(raw.encode("ascii"), MAX_PARAMS) == form


@given(st.lists(st.tuples(plain_text, plain_text), max_size=10))
def test_pairs_with_quote_parse_back_with_their_repeats(pairs):
    """%20 and + both mean a space; a name sent twice is recorded even when one copy is empty."""
    raw = "&".join(f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in pairs)
    params = parse_urlencoded(raw, max_params=MAX_PARAMS)
    names = [name for name, _ in pairs]  # every pair is at least "=", so each one counts
    expected: dict[str, list[str]] = {}
    for name, value in pairs:
        if value:
            expected.setdefault(name, []).append(value)
    assert {k: list(v) for k, v in params.values.items()} == expected
    assert params.repeated_names == {n for n in names if names.count(n) > 1}


@given(forms.filter(bool), st.integers(0, 9))
def test_any_control_character_refuses_the_whole_request(form, which):
    control = chr(which) if which < 5 else ("\x7f", "\x85", "\x9f", "\n", "\r")[which - 5]
    name = sorted(form)[0]
    tampered = {**form, name: form[name] + control}
    try:
        parse_urlencoded(urlencode(tampered), max_params=MAX_PARAMS)
    except MalformedParameters as exc:
        assert "control character" in str(exc)
    else:
        raise AssertionError("a control character was accepted")


@given(st.integers(1, 20), st.integers(0, 20))
def test_more_pairs_than_the_limit_is_malformed(limit, extra):
    raw = "&".join(f"p{i}=1" for i in range(limit + extra + 1))
    try:
        parse_urlencoded(raw, max_params=limit)
    except MalformedParameters as exc:
        assert f"more than {limit} parameters" in str(exc)
    else:
        raise AssertionError("the parameter limit was not enforced")


@given(raw_inputs)
def test_lenient_parsing_refuses_nothing_but_too_many_parameters(raw):
    """The authorization and token endpoints parse leniently (RFC 6749 §3.1: unrecognized
    parameters are ignored): a bad value is recorded under its name, never handed on."""
    try:
        params = parse_urlencoded(raw, max_params=MAX_PARAMS, lenient=True)
    except MalformedParameters as exc:
        assert f"more than {MAX_PARAMS} parameters" in str(exc)
        return
    _check_params(params)
    for name, problem in params.malformed.items():
        assert not has_control_character(name)
        assert name not in params.values or params.is_repeated(name)  # a good copy beside the bad one
        assert problem.startswith(f"parameter {name} ")


@given(forms.filter(bool), st.sampled_from(["\x00", "\n", "\x7f", "\x85", "%ZZ", "%FF"]))
def test_a_bad_value_is_recorded_with_the_strict_parsers_reason_and_the_rest_kept(form, bad):
    name = sorted(form)[0]
    # A broken escape or a byte that is no UTF-8 is written in by hand; a control character encoded.
    bad_value = quote_plus(form[name]) + bad if bad.startswith("%") else quote_plus(form[name] + bad)
    raw = "&".join([*(f"{quote_plus(n)}={quote_plus(v)}" for n, v in form.items() if n != name),
                    f"{quote_plus(name)}={bad_value}"])
    try:
        parse_urlencoded(raw, max_params=MAX_PARAMS)
    except MalformedParameters as exc:
        reason = str(exc)
    else:
        raise AssertionError("the bad value was accepted")
    params = parse_urlencoded(raw, max_params=MAX_PARAMS, lenient=True)
    assert params.malformed == {name: reason} and params.problem(["other", name]) == reason
    assert dict(params.values) == {n: (v,) for n, v in form.items() if n != name}
