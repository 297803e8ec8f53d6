"""shared.compact_json writes exactly what json.dumps with compact separators writes (tokens are
signed over it, and codes, sessions and transactions stored as it)."""

import json

from hypothesis import given
from hypothesis import strategies as st

from shared import compact_json

_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                     lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=20)


@given(_JSON)
def test_the_same_text_as_json_dumps_with_compact_separators(value: object):
    assert compact_json.dumps(value) == json.dumps(value, separators=(",", ":"))


def test_no_spaces_and_non_ascii_escaped():
    assert compact_json.dumps({"a": [1, "é"], "b": None}) == '{"a":[1,"\\u00e9"],"b":null}'
