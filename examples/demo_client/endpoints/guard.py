"""What every state-changing POST needs: a signed-in session and its CSRF token."""

from __future__ import annotations

from aiohttp import web

from examples.demo_client.oidc import DemoError
from examples.demo_client.pages import session_of
from examples.demo_client.sessions import DemoSession


async def signed_in_post(request: web.Request) -> DemoSession:
    session = session_of(request)
    if session is None or session.tokens is None:
        raise DemoError("You are not signed in (or your session expired).")
    form = await request.post()
    csrf = form.get("csrf")
    if not session.csrf_matches(csrf if isinstance(csrf, str) else None):
        raise DemoError("This form is stale or did not come from this app (CSRF check failed).", 403)
    return session
