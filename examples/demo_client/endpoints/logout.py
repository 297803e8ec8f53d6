"""POST /logout and GET /signed-out: sign out of the demo and of Latchkey (OIDC RP-Initiated
Logout 1.0), then land back on the demo's home page, signed out.

The demo revokes its refresh token and forgets its session first, so it is signed out even if
Latchkey cannot be reached; then it sends the browser to the end_session_endpoint with its ID
token as id_token_hint, its client_id, the registered post_logout_redirect_uri and a fresh
state (§2). Latchkey ends its own session and sends the browser back to /signed-out with that
state, which must be the one this browser was given (§3), as for any answer we asked for.
"""

from __future__ import annotations

import logging
import secrets

from aiohttp import web

from examples.demo_client.endpoints.guard import signed_in_post
from examples.demo_client.oidc import DemoError, end_session_url
from examples.demo_client.pages import redirect, session_of
from examples.demo_client.sessions import COOKIE_NAME
from examples.demo_client.state import CONFIG, PROVIDER, SESSION, SESSION_ID, SESSIONS, TOKENS
from shared.crypto.digests import constant_time_equals

log = logging.getLogger("latchkey.demo")

SIGNED_OUT_FLASH = "You are signed out of the demo app and of Latchkey."


async def logout(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    session = await signed_in_post(request)
    async with session.token_lock:  # re-read inside: a refresh in flight may have rotated the token
        tokens = session.tokens
        metadata = await request.app[PROVIDER].metadata()
        if tokens is not None and tokens.refresh_token and metadata.revocation_endpoint:
            try:
                await request.app[TOKENS].revoke(metadata.revocation_endpoint, tokens.refresh_token,
                                                 "refresh_token")
            except DemoError as exc:  # signing out must work even when revocation does not
                log.warning("revoking the refresh token at logout failed: %s", exc)
        session.tokens = None  # a second click waiting on the lock has nothing left to revoke
    if tokens is None:
        return redirect("/")  # a second click: the first one is already on its way to Latchkey
    # The signed-in session goes; a fresh one under a new id only remembers the state we send.
    sessions = request.app[SESSIONS]
    sessions.drop(request.cookies.get(COOKIE_NAME))
    request[SESSION_ID], request[SESSION] = sessions.create()
    request[SESSION].logout_state = state = secrets.token_urlsafe(32)
    assert metadata.end_session_endpoint is not None
    return redirect(end_session_url(metadata.end_session_endpoint, id_token=tokens.id_token,
                                    client_id=config.client_id,
                                    post_logout_redirect_uri=config.post_logout_redirect_uri, state=state))


async def signed_out(request: web.Request) -> web.Response:
    """The post_logout_redirect_uri: Latchkey's answer, accepted only with our state."""
    session = session_of(request)
    expected = session.logout_state if session is not None else None
    if session is None or expected is None:
        raise DemoError("No sign-out was started from this browser (or it took too long).")
    if not constant_time_equals(request.query.get("state", ""), expected):
        raise DemoError("The state parameter does not match the sign-out we started: refusing the answer.")
    session.logout_state = None  # good for one answer only
    session.flash = SIGNED_OUT_FLASH
    return redirect("/")
