"""JSON without spaces, as tokens, codes, sessions and transactions store and sign it.

``json.dumps`` with any option builds a new encoder on every call, and even the default one
makes its C encoder (and a dict for cycle checks) again on every call: a few microseconds on
every token signed and every code, session or transaction written. The C encoder is made once
here, without the cycle check: what we encode is claims and records, never cyclic (a cycle
would end in RecursionError instead of ValueError).
"""

from __future__ import annotations

import json
from json import encoder as _encoder
from typing import Any

_COMPACT = json.JSONEncoder(separators=(",", ":"))
# None where CPython was built without its _json accelerator: then the encoder's own path.
_c_make_encoder = getattr(_encoder, "c_make_encoder", None)
_ENCODE = None if _c_make_encoder is None else _c_make_encoder(
    None, _COMPACT.default, _encoder.encode_basestring_ascii, None, ":", ",", False, False, True)


def dumps(value: Any) -> str:
    """What ``json.dumps(value, separators=(",", ":"))`` returns."""
    if _ENCODE is None:
        return _COMPACT.encode(value)
    return "".join(_ENCODE(value, 0))
