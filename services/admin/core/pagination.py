"""Cursor pagination for every admin API list: ``?limit=`` and an opaque ``?cursor=``.

A page is ``{"items": [...], "next_cursor": "..." | null}``. The cursor is the base64url JSON
of the last item's key; a page asks for one item more than it shows, so ``next_cursor`` is null
exactly when nothing follows. A cursor past the end gives an empty page; a malformed one 400.
The cursor is not signed: forging one only moves where a page starts, which any caller may do.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiohttp import web

from services.admin.core.problems import bad_parameter
from shared.config import Settings
from shared.oauth.params import has_control_character

T = TypeVar("T")
Key = int | str
_LIMIT = re.compile(r"[0-9]{1,4}")
_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1
_TEXT_KEY_MAX = 1000


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int
    after: Key | None  # the key of the last item already seen


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_after: Key | None

    def to_json(self, render: Callable[[T], Any]) -> dict[str, Any]:
        return {"items": [render(i) for i in self.items],
                "next_cursor": None if self.next_after is None else encode_cursor(self.next_after)}


def encode_cursor(key: Key) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": key}).encode()).rstrip(b"=").decode()


def decode_cursor(raw: str, key_type: type[int] | type[str]) -> Key:
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise bad_parameter("cursor is malformed; use next_cursor of the previous page as it is") from None
    key = data.get("after") if isinstance(data, dict) else None
    if type(key) is not key_type or not _storable(key):  # noqa: E721 - bool is an int, and is no key
        raise bad_parameter("cursor is malformed; use next_cursor of the previous page as it is")
    return key


def _storable(key: Key) -> bool:
    """A key PostgreSQL can compare with: a bigint, or text without NUL (no key of ours holds a
    control character) of a bounded length. Cursors are not signed, so a hand-made one is checked."""
    if isinstance(key, int):
        return _BIGINT_MIN <= key <= _BIGINT_MAX
    return len(key) <= _TEXT_KEY_MAX and not has_control_character(key)


def page_request(request: web.Request, settings: Settings, key_type: type[int] | type[str]) -> PageRequest:
    raw_limit = request.query.get("limit")
    limit = settings.admin_page_size
    if raw_limit is not None:
        if not _LIMIT.fullmatch(raw_limit) or not 1 <= int(raw_limit) <= settings.admin_max_page_size:
            raise bad_parameter(f"limit must be an integer from 1 to {settings.admin_max_page_size}")
        limit = int(raw_limit)
    cursor = request.query.get("cursor")
    return PageRequest(limit, None if cursor is None else decode_cursor(cursor, key_type))


def page_of(rows: Sequence[T], wanted: PageRequest, key: Callable[[T], Key]) -> Page[T]:
    """``rows`` were fetched with ``limit + 1``: one more than the page means another page follows."""
    items = rows[:wanted.limit]
    more = len(rows) > wanted.limit
    return Page(items, key(items[-1]) if more else None)
