"""A JSON answer that must not be cached (RFC 6749 §5.1): the token and introspection responses.

The same status and headers as ``web.json_response(body, headers=NO_STORE)``, the JSON in compact
form (shared.compact_json): json_response builds an encoder on every call, and a token response
is built on every exchange and refresh.
"""

from __future__ import annotations

from typing import Any

from aiohttp import hdrs, web

from shared import compact_json
from shared.bearer.responses import NO_STORE

_HEADERS = {hdrs.CONTENT_TYPE: "application/json; charset=utf-8", **NO_STORE}


def no_store_json(body: dict[str, Any] | bytes) -> web.Response:
    """A 200 with ``body``: a dict, or its JSON already encoded."""
    payload = body if isinstance(body, bytes) else compact_json.dumps(body).encode()
    return web.Response(body=payload, headers=_HEADERS)
