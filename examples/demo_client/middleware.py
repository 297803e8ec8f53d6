"""The demo's two middlewares: the browser's session in, and errors out as a readable page."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from examples.demo_client.oidc import DemoError
from examples.demo_client.pages import remember_session, render
from examples.demo_client.provider import DiscoveryError
from examples.demo_client.sessions import COOKIE_NAME
from examples.demo_client.state import CONFIG, SESSION, SESSION_ID, SESSIONS
from shared.errors import OAuthError

log = logging.getLogger("latchkey.demo")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    session_id = request.cookies.get(COOKIE_NAME)
    session = request.app[SESSIONS].get(session_id)
    if session is not None:
        request[SESSION] = session
    response = await handler(request)
    if SESSION_ID in request:  # a new or rotated session: hand the browser its id
        remember_session(request, response)
    return response


@web.middleware
async def error_page_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DemoError as exc:
        return _error(request, str(exc), exc.status)
    except DiscoveryError as exc:
        issuer = request.app[CONFIG].issuer
        return _error(request, f"Latchkey is not answering at {issuer} ({exc}). Is `make run` running?", 502)
    except OAuthError as exc:
        return _error(request, f"{exc.error}: {exc.description}", 502)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(request, "Something went wrong in the demo app; its log has the details.", 500)


def _error(request: web.Request, message: str, status: int) -> web.Response:
    return render(request, "error.html", {"message": message}, status=status)
