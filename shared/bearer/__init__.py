"""A reusable bearer-token verifier for aiohttp APIs (RFC 6750, RFC 9068 §4, RFC 8725).

    app = web.Application(middlewares=[json_error_middleware, bearer_middleware()])
    app.cleanup_ctx.append(bearer_context(settings))

    @require_scope("notes:read")
    async def list_notes(request):
        user_id = request[ACCESS_TOKEN].subject
"""

from shared.bearer.context import bearer_context, jwks_cache
from shared.bearer.extract import extract_token
from shared.bearer.jwks import JwksCache, JwksUnavailable
from shared.bearer.middleware import ACCESS_TOKEN, BEARER_VERIFIER, authenticate, bearer_middleware, require_scope
from shared.bearer.token import AccessToken, VerifierPolicy
from shared.bearer.verifier import BearerVerifier

__all__ = [
    "ACCESS_TOKEN", "BEARER_VERIFIER", "AccessToken", "BearerVerifier", "JwksCache", "JwksUnavailable",
    "VerifierPolicy", "authenticate", "bearer_context", "bearer_middleware", "extract_token", "jwks_cache",
    "require_scope",
]
