"""What the notes API accepts as a new note, and whose notes a token can reach."""

import pytest

from services.resource.core.notes import owner_of, parse_new_note
from shared.errors import InvalidRequest, InvalidToken


@pytest.mark.parametrize("document, expected", [
    pytest.param({"body": "buy milk"}, "buy milk", id="plain text"),
    pytest.param({"body": "x" * 10}, "x" * 10, id="exactly the limit"),
    pytest.param({"body": "  spaced  "}, "  spaced  ", id="kept as written"),
])
def test_good_notes(document, expected):
    assert parse_new_note(document, max_chars=10) == expected


@pytest.mark.parametrize("document, message", [
    pytest.param(["body"], "JSON object", id="not an object"),
    pytest.param({}, "non-empty text", id="no body"),
    pytest.param({"body": "   "}, "non-empty text", id="blank body"),
    pytest.param({"body": 42}, "non-empty text", id="body not text"),
    pytest.param({"body": "x" * 11}, "at most 10", id="one over the limit"),
    pytest.param({"body": "a\x00b"}, "NUL", id="NUL character"),
    pytest.param({"body": "x", "user_id": "someone-else"}, "unknown field 'user_id'", id="owner cannot be chosen"),
])
def test_bad_notes_are_invalid_request(document, message):
    with pytest.raises(InvalidRequest, match=message):
        parse_new_note(document, max_chars=10)


def test_owner_is_the_subject_uuid():
    assert str(owner_of("6f1c1f8e-8a52-4f3c-9d2e-0c7c8f5b2a10")) == "6f1c1f8e-8a52-4f3c-9d2e-0c7c8f5b2a10"
    with pytest.raises(InvalidToken):
        owner_of("latchkey-demo-app")
