"""Rendering pages and redirects with the headers every page needs.

Pages carry the strict CSP from shared.web.security_headers. A form whose submission ends in
a redirect to the client (login, consent) also needs the client's origin in form-action:
browsers apply form-action to the redirects that follow a submission.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web

from services.authorize.app_keys import PATHS, STORES
from shared.models import Client
from shared.stores.outages import STORE_ERRORS
from shared.web.request_context import error_reference, note_client
from shared.web.security_headers import PAGE_CSP

log = logging.getLogger("latchkey.authorize")

# What an origin or scheme source may contain, so a strange registered URI cannot inject a directive.
_SOURCE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:(//[A-Za-z0-9.\-\[\]:]+)?")


def render(request: web.Request, template: str, context: dict[str, Any], *, status: int = 200,
           returns_to: str | None = None) -> web.Response:
    context = {"stylesheet": request.app[PATHS].stylesheet, "logout_path": request.app[PATHS].logout, **context}
    response = aiohttp_jinja2.render_template(template, request, context, status=status)
    response.headers["Content-Security-Policy"] = page_csp(returns_to)
    return response


_SHOWN_URI_CHARS = 500  # a developer detail quotes the request: bounded


@dataclass(frozen=True, slots=True)
class BackLink:
    """Where an error page that cannot redirect sends the user: the client's registered home."""

    name: str
    uri: str


@dataclass(frozen=True, slots=True)
class RedirectUriDetail:
    """What a developer needs to fix a redirect URI error; shown only with LATCHKEY_DEV=1."""

    sent: str | None
    registered: tuple[str, ...]


def message_page(request: web.Request, title: str, message: str, *, status: int, back_to: BackLink | None = None,
                 detail: RedirectUriDetail | None = None) -> web.Response:
    """An error page shows a short reference: what a user quotes to support, and what finds the
    access line with the reason (``ref=``, beside the request id)."""
    reference = error_reference(request) if status >= 400 else None
    sent = detail.sent[:_SHOWN_URI_CHARS] if detail is not None and detail.sent is not None else None
    return render(request, "message.html", {"title": title, "message": message, "reference": reference,
                                            "back_to": back_to, "detail": detail, "sent": sent}, status=status)


def back_link(client: Client | None) -> BackLink | None:
    """RFC 7591 §2 client_uri: registered metadata, never a URI taken from the request, so
    linking to it is no open redirect. Only http(s), whatever an old row may hold."""
    if client is None or client.disabled or not client.client_uri:
        return None
    if urlsplit(client.client_uri).scheme not in ("https", "http"):
        return None
    return BackLink(client.name, client.client_uri)


async def registered_client(request: web.Request, client_id: str | None) -> Client | None:
    """The client an error page is about, for its back link and the access line; None when
    unknown or when the store cannot say (the page is shown either way)."""
    if client_id is None:
        return None
    try:
        client = await request.app[STORES].clients.get(client_id)
    except STORE_ERRORS:
        log.warning("store unavailable while looking up a client for an error page", exc_info=True)
        return None
    if client is not None:
        note_client(request, client.client_id)  # registered, so a sane token for the log line
    return client


def redirect(location: str, *, after_post: bool) -> web.Response:
    """302 answers a GET; 303 makes the browser follow a POST with a GET (RFC 9700 §4.12)."""
    return web.Response(status=303 if after_post else 302, headers={"Location": location})


def page_csp(returns_to: str | None) -> str:
    source = form_target_source(returns_to) if returns_to else None
    if source is None:
        return PAGE_CSP
    return PAGE_CSP.replace("form-action 'self'", f"form-action 'self' {source}")


def form_target_source(uri: str) -> str | None:
    """The CSP source matching ``uri``: its origin, or its scheme for a native app's URI."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    source = f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"
    return source if _SOURCE.fullmatch(source) else None
