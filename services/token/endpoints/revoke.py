"""POST /revoke (RFC 7009 §2): the client revokes one of its own tokens.

200 with an empty body whether or not the token was known (§2.2), so a client cannot probe.
"""

from __future__ import annotations

from aiohttp import web

from services.token.app_keys import DENYLIST, KEY_CACHE, METRICS, REFRESH_TOKENS, SETTINGS
from services.token.authentication import authenticate, read_form
from services.token.core.form import required
from services.token.core.revocation import revoke_presented
from shared.web.errors import NO_STORE


async def revoke(request: web.Request) -> web.Response:
    form = await read_form(request)
    client = await authenticate(request, form)
    app = request.app
    settings = app[SETTINGS]
    revoked = await revoke_presented(required(form, "token"), client, issuer=settings.issuer, keys=app[KEY_CACHE],
                                     refresh_tokens=app[REFRESH_TOKENS], denylist=app[DENYLIST],
                                     leeway=settings.clock_leeway)
    if revoked is not None:
        app[METRICS].token_revoked(revoked, client.client_id)
    return web.Response(status=200, headers=NO_STORE)
