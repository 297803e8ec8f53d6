"""OAuth errors as aiohttp responses (RFC 6749 §5.2 JSON, RFC 6750 §3 challenge), never cached.

The server's one error middleware (``shared.web.errors``) renders with ``oauth_error_response``;
an API that uses only the verifier puts ``bearer_error_middleware`` outside ``bearer_middleware``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from .errors import OAuthError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# RFC 6749 §5.1 / RFC 6750 §3: error and token responses must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error_response(error: OAuthError) -> web.Response:
    body = error.body()
    headers = {**NO_STORE, **error.headers()}
    if not body:
        return web.Response(status=error.status, headers=headers)
    return web.json_response(body, status=error.status, headers=headers)


@web.middleware
async def bearer_error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Renders the verifier's errors (401/400/403/503 with their challenge); all else passes."""
    try:
        return await handler(request)
    except OAuthError as error:
        return oauth_error_response(error)
