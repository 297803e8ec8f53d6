"""POST /introspect (RFC 7662 §2): a confidential client asks whether its token is live, or an
API (with its own credentials) whether a token meant for it is.

Introspection needs real client authentication (§2.1), so a public client is refused.
"""

from __future__ import annotations

from aiohttp import web

from services.token.app_keys import DENYLIST, KEY_CACHE, REFRESH_TOKENS, SETTINGS
from services.token.authentication import authenticate_client_or_api, read_form
from services.token.core.form import required
from services.token.core.introspection import introspect
from shared.errors import InvalidClient
from shared.models import Client
from shared.web.json_responses import no_store_json


async def introspection(request: web.Request) -> web.Response:
    form = await read_form(request)
    client = await authenticate_client_or_api(request, form)
    if isinstance(client, Client) and client.is_public:
        raise InvalidClient("introspection requires a confidential client")
    app = request.app
    body = await introspect(required(form, "token"), client, settings=app[SETTINGS], keys=app[KEY_CACHE],
                            refresh_tokens=app[REFRESH_TOKENS], denylist=app[DENYLIST])
    return no_store_json(body)
