"""Which origins may read the token service's answers (shared.web.cors does the HTTP part).

- /token and /revoke: the origins the client named in the request allows
  (``allowed_cors_origins``). A request that fails before its client is found (malformed, an
  unknown client, over a rate limit) and a preflight (which names no client) are allowed for
  an origin some enabled client allows: the real POST is then checked against its own
  client's list, and an error body tells a stranger nothing.
- /jwks: public keys, public data: ``*`` (as node-oidc-provider and Keycloak do).
- /introspect: none; it is a resource server's back channel.

Every lookup is the clients cache (shared.stores.pg_clients.CachedClients): no query per request.
"""

from __future__ import annotations

from aiohttp import web

from services.token.app_keys import CLIENTS
from shared.endpoints import JWKS_PATH, REVOKE_PATH, TOKEN_PATH
from shared.models import Client
from shared.web.cors import CorsRule

# The client a token or revocation request named, once found (set by authentication.authenticate).
NAMED_CLIENT = web.RequestKey("cors_named_client", Client)


async def any_client_allows(request: web.Request, origin: str) -> bool:
    return origin in await request.app[CLIENTS].cors_origins()


async def named_client_allows(request: web.Request, origin: str) -> bool:
    client = request.get(NAMED_CLIENT)
    if client is None:
        return await any_client_allows(request, origin)
    return origin in client.allowed_cors_origins


TOKEN_METHODS = ("POST",)
JWKS_METHODS = ("GET",)

RULES = {
    TOKEN_PATH: CorsRule(TOKEN_METHODS, named_client_allows, any_client_allows),
    REVOKE_PATH: CorsRule(TOKEN_METHODS, named_client_allows, any_client_allows),
    JWKS_PATH: CorsRule(JWKS_METHODS, None),
}
