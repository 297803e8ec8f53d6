"""JSON without spaces, as tokens, codes, sessions and transactions store and sign it.

``json.dumps`` with any option builds a new encoder on every call; this one is built once
(a few microseconds on every token signed and every code, session or transaction written).
"""

from __future__ import annotations

import json
from typing import Any

_COMPACT = json.JSONEncoder(separators=(",", ":"))


def dumps(value: Any) -> str:
    """What ``json.dumps(value, separators=(",", ":"))`` returns."""
    return _COMPACT.encode(value)
