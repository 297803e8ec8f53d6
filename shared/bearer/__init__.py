"""A reusable bearer-token verifier for aiohttp APIs (RFC 6750, RFC 9068 §4, RFC 8725).

    config = BearerConfig(issuer=..., audience=..., jwks_url=...)
    app = web.Application(middlewares=[bearer_error_middleware, bearer_middleware()])
    app.cleanup_ctx.append(bearer_context(config))

    @require_scope("notes:read")
    async def list_notes(request):
        user_id = request[ACCESS_TOKEN].subject

This package imports only itself and its few dependencies (aiohttp, PyJWT, cryptography; redis
for the denylist), so it also ships alone as the ``latchkey-bearer`` distribution, imported as
``latchkey_bearer`` (packaging/bearer). Names load on first use: the server's ``shared.errors``
reads ``errors`` from here without pulling in aiohttp.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import BearerConfig
    from .context import bearer_context, jwks_cache
    from .errors import (
        BearerError,
        InsufficientScope,
        InvalidBearerRequest,
        InvalidToken,
        MissingToken,
        OAuthError,
        VerifierUnavailable,
    )
    from .extract import extract_token
    from .jwks import JwksCache, JwksUnavailable
    from .middleware import ACCESS_TOKEN, BEARER_VERIFIER, authenticate, bearer_middleware, require_scope
    from .responses import bearer_error_middleware, oauth_error_response
    from .token import AccessToken, VerifierPolicy
    from .verifier import BearerVerifier

_EXPORTS = {
    "BearerConfig": "config",
    "bearer_context": "context", "jwks_cache": "context",
    "BearerError": "errors", "InsufficientScope": "errors", "InvalidBearerRequest": "errors",
    "InvalidToken": "errors", "MissingToken": "errors", "OAuthError": "errors", "VerifierUnavailable": "errors",
    "extract_token": "extract",
    "JwksCache": "jwks", "JwksUnavailable": "jwks",
    "ACCESS_TOKEN": "middleware", "BEARER_VERIFIER": "middleware", "authenticate": "middleware",
    "bearer_middleware": "middleware", "require_scope": "middleware",
    "bearer_error_middleware": "responses", "oauth_error_response": "responses",
    "AccessToken": "token", "VerifierPolicy": "token",
    "BearerVerifier": "verifier",
}
__all__ = [
    "ACCESS_TOKEN", "BEARER_VERIFIER", "AccessToken", "BearerConfig", "BearerError", "BearerVerifier",
    "InsufficientScope", "InvalidBearerRequest", "InvalidToken", "JwksCache", "JwksUnavailable", "MissingToken",
    "OAuthError", "VerifierPolicy", "VerifierUnavailable", "authenticate", "bearer_context",
    "bearer_error_middleware", "bearer_middleware", "extract_token", "jwks_cache", "oauth_error_response",
    "require_scope",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
