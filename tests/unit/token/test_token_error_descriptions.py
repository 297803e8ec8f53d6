"""error_description carries only %x20-21 / %x23-5B / %x5D-7E (RFC 6749 §5.2), whatever the
description quotes from the request."""

import pytest

from services.token.core.form import parse_form
from services.token.core.grants import grant_type_of
from shared.errors import InvalidClient, InvalidRequest, InvalidToken, OAuthError, UnsupportedGrantType

ALLOWED = {chr(c) for c in range(0x20, 0x7F)} - {'"', "\\"}


@pytest.mark.parametrize("error, expected", [
    (InvalidRequest('a "quoted" value'), "a quoted value"),
    (InvalidRequest("back\\slash"), "backslash"),
    (InvalidRequest("nul\x00 and\nnewline"), "nul andnewline"),
    (InvalidClient("J\u00fcrgen \u2603"), "Jrgen "),
    (InvalidRequest("plain text, kept: as-is!"), "plain text, kept: as-is!"),
], ids=["double quotes", "a backslash", "control characters", "non-ASCII", "allowed text untouched"])
def test_the_body_filters_the_description(error: OAuthError, expected: str):
    assert error.body() == {"error": error.error, "error_description": expected}


def test_a_description_filtered_to_nothing_is_left_out():
    assert InvalidRequest("\u00e9\u00e9").body() == {"error": "invalid_request"}


def test_bearer_errors_filter_the_body_like_the_challenge():
    error = InvalidToken('bad "token"\\')
    assert error.body()["error_description"] == "bad token"
    assert 'error_description="bad token"' in error.headers()["WWW-Authenticate"]


@pytest.mark.parametrize("body, sent", [
    (b"grant_type=x%22%5C%C3%A9", 'x"\\\u00e9'),
    (b"grant_type=made_up_grant", "made_up_grant"),
], ids=["quote, backslash and non-ASCII", "plain text"])
def test_an_unsupported_grant_type_is_not_echoed(body: bytes, sent: str):
    form = parse_form(body, max_params=10)
    assert form["grant_type"] == sent
    with pytest.raises(UnsupportedGrantType) as raised:
        grant_type_of(form, client=None)  # type: ignore[arg-type]  # refused before the client is read
    description = raised.value.body()["error_description"]
    assert set(description) <= ALLOWED and sent not in description
