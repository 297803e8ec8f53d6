"""GET and POST /logout: the user-facing sign-out page; ends the browser's session.

GET only asks; the session ends on a POST carrying the session's CSRF token, so a link or an
image on another site cannot sign the user out. This is not OIDC RP-Initiated Logout: it
takes no id_token_hint or post_logout_redirect_uri, so discovery has no end_session_endpoint.
"""

from __future__ import annotations

from aiohttp import web

from services.authorize.app_keys import COOKIES, STORES
from services.authorize.inputs import form_params
from services.authorize.pages import message_page, render
from services.authorize.sessions import check_csrf, current_session


async def show(request: web.Request) -> web.Response:
    _, session = await current_session(request)
    if session is None:
        return signed_out(request)
    return render(request, "logout.html", {"username": session.username, "csrf": session.csrf})


async def submit(request: web.Request) -> web.Response:
    form = await form_params(request)
    session_id, session = await current_session(request)
    if session_id is not None and session is not None:
        check_csrf(form, session.csrf)
        await request.app[STORES].sessions.end(session_id)
    response = signed_out(request)
    request.app[COOKIES].clear_session(response)
    return response


def signed_out(request: web.Request) -> web.Response:
    return message_page(request, "Signed out", "You are signed out. You can close this window.", status=200)
