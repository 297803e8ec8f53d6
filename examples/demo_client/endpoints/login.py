"""GET /login: step 1, send the browser to Latchkey's authorization endpoint (RFC 6749 §4.1.1)
with a fresh state, nonce and PKCE verifier remembered in this browser's session.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from aiohttp import web

from examples.demo_client.oidc import DemoError, authorization_url, new_pending_login
from examples.demo_client.pages import ensure_session, redirect
from examples.demo_client.state import CONFIG, PROVIDER


async def login(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    public = urlsplit(config.public_url)
    if request.host != public.netloc:
        # The session cookie must live on the host the callback returns to.
        return redirect(config.public_url + "/login", status=302)
    if not config.client_secret:
        raise DemoError("LATCHKEY_DEMO_CLIENT_SECRET is not set: start the demo with `make run`.", 500)
    metadata = await request.app[PROVIDER].metadata()
    session = ensure_session(request)
    session.pending = new_pending_login(time.monotonic())
    return redirect(authorization_url(metadata, config.client_id, config.redirect_uri, config.scope,
                                      session.pending), status=302)
