"""Rendering pages and redirects with the headers every page needs.

Pages carry the strict CSP from shared.web.security_headers. A form whose submission ends in
a redirect to the client (login, consent) also needs the client's origin in form-action:
browsers apply form-action to the redirects that follow a submission.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web

from services.authorize.app_keys import PATHS
from shared.web.request_context import request_info
from shared.web.security_headers import PAGE_CSP

# What an origin or scheme source may contain, so a strange registered URI cannot inject a directive.
_SOURCE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:(//[A-Za-z0-9.\-\[\]:]+)?")


def render(request: web.Request, template: str, context: dict[str, Any], *, status: int = 200,
           returns_to: str | None = None) -> web.Response:
    context = {"stylesheet": request.app[PATHS].stylesheet, "logout_path": request.app[PATHS].logout, **context}
    response = aiohttp_jinja2.render_template(template, request, context, status=status)
    response.headers["Content-Security-Policy"] = page_csp(returns_to)
    return response


def message_page(request: web.Request, title: str, message: str, *, status: int) -> web.Response:
    """An error page shows the request id as its reference: what a user quotes to support, and
    what finds the access line (X-Request-Id)."""
    info = request_info(request)
    reference = info.request_id if info is not None and status >= 400 else None
    return render(request, "message.html", {"title": title, "message": message, "reference": reference},
                  status=status)


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
