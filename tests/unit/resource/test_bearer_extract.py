"""RFC 6750 §2: where a token may come from, and the errors for everything else."""

import pytest

from shared.bearer.extract import extract_token
from shared.errors import InvalidBearerRequest, MissingToken

OK = [
    pytest.param(["Bearer abc.def.ghi"], [], "abc.def.ghi", id="header token"),
    pytest.param(["bearer abc"], [], "abc", id="scheme is case-insensitive"),
    pytest.param(["Bearer   abc  "], [], "abc", id="extra spaces around the token"),
    pytest.param(["Bearer a-b_c~d+e/f=="], [], "a-b_c~d+e/f==", id="every b64token character"),
    pytest.param([], ["abc.def.ghi"], "abc.def.ghi", id="form body token"),
    pytest.param(["Basic dXNlcjpwYXNz"], ["abc"], "abc", id="other scheme in header, token in body"),
]


@pytest.mark.parametrize("headers, body, expected", OK)
def test_token_is_found(headers, body, expected):
    assert extract_token(headers, body) == expected


REFUSED = [
    pytest.param([], [], MissingToken, id="nothing sent is a bare challenge"),
    pytest.param(["Basic dXNlcjpwYXNz"], [], MissingToken, id="another scheme is no bearer token"),
    pytest.param(["Bearer"], [], InvalidBearerRequest, id="scheme without token"),
    pytest.param(["Bearer "], [], InvalidBearerRequest, id="scheme with empty token"),
    pytest.param(["Bearer abc def"], [], InvalidBearerRequest, id="two tokens in one header"),
    pytest.param(["Bearer\tabc"], [], InvalidBearerRequest, id="only SP may follow the scheme"),
    pytest.param(["bearer\t\tabc"], [], InvalidBearerRequest, id="tabs after a lowercase scheme"),
    pytest.param(["Bearerabc"], [], MissingToken, id="a scheme that only starts with Bearer is another scheme"),
    pytest.param(["Bearer abc,def"], [], InvalidBearerRequest, id="comma is not a b64token character"),
    pytest.param(["Bearer =abc"], [], InvalidBearerRequest, id="padding first"),
    pytest.param(["Bearer abc", "Bearer abc"], [], InvalidBearerRequest, id="two Authorization headers"),
    pytest.param(["Bearer abc"], ["abc"], InvalidBearerRequest, id="header and body at once"),
    pytest.param([], ["abc", "abc"], InvalidBearerRequest, id="access_token twice in body"),
    pytest.param([], ["a b"], InvalidBearerRequest, id="malformed body token"),
]


@pytest.mark.parametrize("headers, body, error", REFUSED)
def test_token_is_refused(headers, body, error):
    with pytest.raises(error) as caught:
        extract_token(headers, body)
    assert type(caught.value) is error


def test_missing_token_challenge_has_no_error_attribute():
    assert MissingToken().headers() == {"WWW-Authenticate": 'Bearer realm="latchkey"'}
    assert MissingToken().status == 401
