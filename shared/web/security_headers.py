"""Strict security headers on every response (OWASP secure headers, RFC 9700 §4.16)."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Middleware
from multidict import istr

from shared.web.errors import Handler

BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
# No inline script or style anywhere; forms may only post back to us.
PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"


def security_headers_middleware(*, https: bool, csp: str = API_CSP, no_store: bool = True) -> Middleware:
    named = dict(BASE_HEADERS, **{"Content-Security-Policy": csp})
    if https:
        named["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if no_store:
        named["Cache-Control"] = "no-store"
    # istr: the header multidict takes them as they are, a str it folds again on every response.
    headers = {istr(name): value for name, value in named.items()}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = exc
            _apply(response, headers)
            raise
        _apply(response, headers)
        return response

    return middleware


def _apply(response: web.StreamResponse, headers: dict[istr, str]) -> None:
    """Each header the handler did not set itself (a page's own Cache-Control, say)."""
    setdefault = response.headers.setdefault
    for name, value in headers.items():
        setdefault(name, value)
