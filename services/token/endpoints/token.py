"""POST /token (RFC 6749 §3.2): parse, authenticate the client, dispatch on grant_type, render.

Every answer, success or error, carries Cache-Control: no-store and Pragma: no-cache (§5.1).
"""

from __future__ import annotations

import time

from aiohttp import web

from services.token.app_keys import GRANT_CONTEXT
from services.token.authentication import authenticate, read_form
from services.token.core.context import TokenRequest
from services.token.core.grants import GRANT_HANDLERS, grant_type_of
from shared.web.client_address import client_address
from shared.web.json_responses import no_store_json


async def token(request: web.Request) -> web.Response:
    form = await read_form(request)
    client = await authenticate(request, form)
    handler = GRANT_HANDLERS[grant_type_of(form, client)]
    ctx = request.app[GRANT_CONTEXT]
    remote_addr = client_address(request, ctx.settings.trusted_proxies)
    response = await handler(TokenRequest(client, form, int(time.time()), remote_addr), ctx)
    return no_store_json(response.json())
