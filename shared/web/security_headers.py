"""The headers every answer carries, in one middleware, the outermost of a service's own so that it
sees every answer: strict security headers (OWASP secure headers, RFC 9700 §4.16), and on every
503 ``Retry-After`` (RFC 9110 §10.2.3), whoever produced it: a store outage, load shedding, an
unreachable JWKS, /readyz. One layer rather than two: every request passes through each."""

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
_RETRY_AFTER = istr("Retry-After")


def security_headers_middleware(*, https: bool, csp: str = API_CSP, no_store: bool = True,
                                retry_after: int | None = None) -> Middleware:
    """``retry_after``: the seconds every 503 tells the client to wait (LATCHKEY_RETRY_AFTER_SECONDS)."""
    named = dict(BASE_HEADERS, **{"Content-Security-Policy": csp})
    if https:
        named["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if no_store:
        named["Cache-Control"] = "no-store"
    # istr: the header multidict takes them as they are, a str it folds again on every response.
    headers = {istr(name): value for name, value in named.items()}
    retry = None if retry_after is None else str(retry_after)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # raised, not returned: aiohttp renders it after us
            _apply(exc, headers, retry)
            raise
        _apply(response, headers, retry)
        return response

    return middleware


def _apply(response: web.StreamResponse, headers: dict[istr, str], retry_after: str | None) -> None:
    """Each header the handler did not set itself (a page's own Cache-Control, say)."""
    setdefault = response.headers.setdefault
    for name, value in headers.items():
        setdefault(name, value)
    if response.status == 503 and retry_after is not None and not response.prepared:
        setdefault(_RETRY_AFTER, retry_after)
