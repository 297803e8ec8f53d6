"""Token-endpoint request bodies (RFC 6749 §3.2, Appendix B).

Only application/x-www-form-urlencoded in UTF-8 is accepted. A parameter sent twice is
rejected (§3.1, §3.2), one sent without a value counts as omitted (§3.1) and a value holding
a control character is refused, all before any grant logic runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl

from shared.errors import InvalidRequest

FORM_TYPE = "application/x-www-form-urlencoded"
# No parameter of ours may hold a control character (C0, DEL, C1); PostgreSQL refuses NUL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def has_control_character(value: str) -> bool:
    return _CONTROL.search(value) is not None


def check_content_type(content_type: str, charset: str | None) -> None:
    if content_type != FORM_TYPE:
        raise InvalidRequest(f"the request body must be {FORM_TYPE}")
    if charset is not None and charset.lower() not in ("utf-8", "utf8"):
        raise InvalidRequest("the request body must be UTF-8")


def parse_form(body: bytes, max_params: int) -> Mapping[str, str]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=max_params,
                          encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise InvalidRequest("the request body is not valid UTF-8") from None
    except ValueError:
        raise InvalidRequest(f"too many parameters (at most {max_params})") from None
    form: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in pairs:
        if name in seen:
            raise InvalidRequest(f"parameter {name} is repeated")
        seen.add(name)
        if has_control_character(value):
            raise InvalidRequest(f"parameter {name} contains a control character")
        if value:
            form[name] = value
    return form


def required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if value is None:
        raise InvalidRequest(f"missing parameter {name!r}")
    return value
