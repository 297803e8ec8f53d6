"""The one place the authorize service turns exceptions into responses.

- an error for a verified client goes to its redirect URI, with state and iss (RFC 6749
  §4.1.2.1, RFC 9207);
- anything before the client and redirect URI are verified is a page, never a redirect; it links
  back to the client's registered home page (client_uri) when the client is known;
- aiohttp's own HTTP errors (404, 405, 413, ...) become pages with the same status;
- temporarily unavailable (a store down, shared.web.unavailable; the server busy,
  shared.web.shedding) is a 503 page; anything else is logged and shown as a bare 500 page.
"""

from __future__ import annotations

import logging

from aiohttp import web

from services.authorize.app_keys import SETTINGS
from services.authorize.core.errors import CannotRedirect
from services.authorize.core.redirects import error_response
from services.authorize.pages import RedirectUriDetail, back_link, message_page, redirect, registered_client
from shared.errors import OAuthError, TemporarilyUnavailable
from shared.web.errors import Handler
from shared.web.request_context import note_error, reason_key

log = logging.getLogger("latchkey.authorize")


class ErrorForClient(Exception):
    """An OAuthError about a request whose client and redirect URI are verified."""

    def __init__(self, error: OAuthError, redirect_uri: str, state: str | None) -> None:
        super().__init__(error.error)
        self.error = error
        self.redirect_uri = redirect_uri
        self.state = state


_HTTP_MESSAGES = {
    404: "There is no page at this address.",
    405: "This address does not accept that kind of request.",
    413: "The request is larger than this server accepts.",
}


@web.middleware
async def html_error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ErrorForClient as exc:
        note_error(request, exc.error.error, reason_key(exc.error))
        location = error_response(exc.redirect_uri, exc.error, state=exc.state, issuer=request.app[SETTINGS].issuer)
        return redirect(location, after_post=request.method == "POST")
    except CannotRedirect as exc:
        # A page for a store outage (503) is no fault of the request.
        note_error(request, "temporarily_unavailable" if exc.status == 503 else "invalid_request", reason_key(exc))
        client = await registered_client(request, exc.client_id)
        # The URIs a request sent and a client registered are a developer's business only.
        detail = (RedirectUriDetail(exc.redirect_uri_sent, exc.registered)
                  if exc.registered and request.app[SETTINGS].dev_mode else None)
        title = "Temporarily unavailable" if exc.status == 503 else "This request cannot be completed"
        return message_page(request, title, exc.message, status=exc.status, back_to=back_link(client), detail=detail)
    except TemporarilyUnavailable as exc:
        note_error(request, exc.error, reason_key(exc))
        return message_page(request, "Temporarily unavailable", "Sign-in is temporarily unavailable. "
                            "Please try again in a moment.", status=503)
    except OAuthError as exc:
        note_error(request, exc.error, reason_key(exc))
        return message_page(request, "This request cannot be completed", exc.description or exc.error,
                            status=exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        note_error(request, "invalid_request" if exc.status < 500 else "server_error", f"http_{exc.status}")
        response = message_page(request, exc.reason, _HTTP_MESSAGES.get(exc.status, "The request could not be "
                                "understood."), status=exc.status)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        note_error(request, "server_error", "unhandled_exception")
        return message_page(request, "Something went wrong", "Something went wrong on our side. "
                            "Please try again.", status=500)
