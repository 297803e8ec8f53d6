"""POST /logout: forget this app's session (revoking its refresh token first), then offer to
end the Latchkey session too (its /logout page asks the user to confirm).
"""

from __future__ import annotations

import logging

from aiohttp import web

from examples.demo_client.endpoints.guard import signed_in_post
from examples.demo_client.oidc import DemoError
from examples.demo_client.pages import redirect, render
from examples.demo_client.sessions import COOKIE_NAME, clear_cookie
from examples.demo_client.state import CONFIG, PROVIDER, SESSIONS, TOKENS

log = logging.getLogger("latchkey.demo")


async def logout(request: web.Request) -> web.Response:
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
    request.app[SESSIONS].drop(request.cookies.get(COOKIE_NAME))
    response = redirect("/signed-out")
    clear_cookie(response, secure=request.app[CONFIG].secure_cookies)
    return response


async def signed_out(request: web.Request) -> web.Response:
    metadata = await request.app[PROVIDER].metadata()
    return render(request, "signed_out.html", {"end_session_endpoint": metadata.end_session_endpoint})
