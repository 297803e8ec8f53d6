"""GET/POST /userinfo (OpenID Connect Core §5.3): claims about the token's user, by scope.

POST is accepted too (§5.3.1), with the token in the header or the form body (RFC 6750 §2.2).
The user's claims come from a short per-user cache (services/resource/profiles.py): a user
disabled or deleted is refused within LATCHKEY_USERINFO_CACHE_SECONDS.
"""

from __future__ import annotations

from aiohttp import web

from services.resource.app_keys import PROFILES
from services.resource.core.claims import userinfo_claims
from services.resource.inactive_user import inactive_user
from shared.bearer import ACCESS_TOKEN, require_scope


@require_scope("openid")
async def userinfo(request: web.Request) -> web.Response:
    access = request[ACCESS_TOKEN]
    user = await request.app[PROFILES].get(access.subject)
    if user is None or user.disabled:
        raise inactive_user(request)
    return web.json_response(userinfo_claims(user, access.scopes))
