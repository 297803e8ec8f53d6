"""GET /callback: step 2, Latchkey sends the browser back with a code (RFC 6749 §4.1.2).

The state must be ours; then the code is exchanged server-side with the PKCE verifier, the ID
token checked (signature, iss, aud, exp, nonce), and the session id renewed.
"""

from __future__ import annotations

import time

from aiohttp import web

from examples.demo_client.oidc import code_from_callback
from examples.demo_client.pages import redirect, session_of
from examples.demo_client.sessions import COOKIE_NAME
from examples.demo_client.state import CONFIG, PROVIDER, SESSION_ID, SESSIONS, TOKENS
from examples.demo_client.token_set import token_set_from


async def callback(request: web.Request) -> web.Response:
    config, provider = request.app[CONFIG], request.app[PROVIDER]
    session = session_of(request)
    pending = session.pending if session is not None else None
    if pending is not None and time.monotonic() - pending.started_at > config.login_ttl:
        pending = None
    metadata = await provider.metadata()
    code = code_from_callback(request.query, pending, metadata)
    assert session is not None and pending is not None
    session.pending = None  # a state is good for one answer only
    response = await request.app[TOKENS].exchange_code(metadata.token_endpoint, code, pending.code_verifier)
    session.tokens = await token_set_from(response, provider, config, nonce=pending.nonce)
    session.flash = "Signed in. Everything below was fetched server-side with your tokens."
    from_cookie = request.cookies.get(COOKIE_NAME, "")
    request[SESSION_ID] = request.app[SESSIONS].rotate(from_cookie, session)
    return redirect("/")
