"""How commands print: one JSON document with --json, short human text otherwise."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit(data: Any, as_json: bool, human: str) -> None:
    if as_json:
        json.dump(data, sys.stdout, default=str, indent=2)
        sys.stdout.write("\n")
    else:
        print(human)
