"""The one place a service turns exceptions into responses.

``OAuthError`` renders as RFC 6749 §5.2 / RFC 6750 §3 JSON with its status and challenge;
aiohttp's own HTTP errors (404, 405, 413, ...) pass through; anything else is logged with its
traceback and becomes a bare ``server_error``: internals are never shown.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from shared.bearer.responses import NO_STORE, oauth_error_response
from shared.errors import OAuthError, ServerError

__all__ = ["NO_STORE", "json_error_middleware", "oauth_error_response"]

log = logging.getLogger("latchkey.errors")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def json_error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except OAuthError as error:
        return oauth_error_response(error)
    except web.HTTPException as exc:
        if exc.status >= 400 and exc.content_type != "application/json":
            # Give clients a machine-readable body for plain aiohttp errors too.
            code = "invalid_request" if exc.status < 500 else "server_error"
            return web.json_response({"error": code, "error_description": exc.reason},
                                     status=exc.status, headers={**NO_STORE, **_allow(exc)})
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return oauth_error_response(ServerError())


def _allow(exc: web.HTTPException) -> dict[str, str]:
    allow = exc.headers.get("Allow")
    return {"Allow": allow} if allow else {}
