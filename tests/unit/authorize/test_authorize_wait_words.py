"""The throttle page's wait in words: never shorter than Retry-After."""

import pytest

from services.authorize.endpoints.login import wait_in_words


@pytest.mark.parametrize(("seconds", "words"), [
    (1, "1 second"), (42, "42 seconds"), (59, "59 seconds"), (60, "1 minute"), (61, "2 minutes"),
    (900, "15 minutes"),
])
def test_wait_in_words(seconds, words):
    assert wait_in_words(seconds) == words
