"""The verifier in aiohttp: a middleware that guards every route, and ``@require_scope``.

Both raise the bearer errors of ``errors.py`` (RFC 6750 §3); an error middleware outside them
renders those with their WWW-Authenticate challenge (``responses.bearer_error_middleware``, or
the server's ``shared.web.errors.json_error_middleware``).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping

from aiohttp import web
from aiohttp.typedefs import Middleware

from .errors import InsufficientScope
from .extract import extract_token
from .token import AccessToken
from .verifier import BearerVerifier

BEARER_VERIFIER = web.AppKey("bearer_verifier", BearerVerifier)
ACCESS_TOKEN = web.RequestKey("access_token", AccessToken)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# RFC 6750 §2.2: only these requests may carry the token in a form-encoded body.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_FORM = "application/x-www-form-urlencoded"


async def _body_tokens(request: web.Request) -> list[str]:
    if request.method not in _BODY_METHODS or request.content_type != _FORM:
        return []
    form = await request.post()  # bounded by the app's client_max_size; cached for the handler
    return [v for v in form.getall("access_token", []) if isinstance(v, str)]


async def authenticate(request: web.Request, also: str | None = None) -> AccessToken:
    """The verified token of this request (verified once, then remembered on the request);
    ``also``: an audience this route takes beside the verifier's own (BearerConfig.also_audiences)."""
    if ACCESS_TOKEN in request:
        return request[ACCESS_TOKEN]
    token = extract_token(request.headers.getall("Authorization", []), await _body_tokens(request))
    access = await request.config_dict[BEARER_VERIFIER].verify(token, also=also)
    request[ACCESS_TOKEN] = access
    return access


def bearer_middleware(*, public_paths: Iterable[str] = (), audience_at: Mapping[str, str] | None = None) -> Middleware:
    """Every request needs a valid bearer token, except the paths listed (health checks).
    ``audience_at`` maps a path to the one audience it takes beside the verifier's own (it must
    be among BearerConfig.also_audiences); every other path takes only the verifier's own."""
    public, also_at = frozenset(public_paths), dict(audience_at or {})

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in public:
            await authenticate(request, also_at.get(request.path))
        return await handler(request)

    return middleware


def require_scope(*scopes: str) -> Callable[[Handler], Handler]:
    """Guards one handler: a valid token (from the middleware, or verified here) with all ``scopes``."""
    needed = " ".join(scopes)

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            access = await authenticate(request)
            if not access.has_scopes(*scopes):
                raise InsufficientScope(f"requires scope {needed}", scope=needed)
            return await handler(request)

        return guarded

    return decorate
