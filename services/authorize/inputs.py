"""Reading parameters from the query string or a form body, strictly (see shared.oauth.params).

Malformed input is a 4xx page before any logic runs: it cannot be trusted enough to find the
client it claims to come from. The authorization request alone is parsed leniently (RFC 6749
§3.1: a parameter it does not recognise is ignored, however malformed): a malformed value of one
of its own parameters is an error, a page or a redirect as the endpoint decides.
"""

from __future__ import annotations

from aiohttp import web

from services.authorize.app_keys import SETTINGS
from services.authorize.core.errors import CannotRedirect
from shared.oauth.params import MalformedParameters, Params, parse_urlencoded

FORM = "application/x-www-form-urlencoded"


def query_params(request: web.Request, *, lenient: bool = False) -> Params:
    return _parse(request.rel_url.raw_query_string, request, lenient)


async def form_params(request: web.Request, *, lenient: bool = False) -> Params:
    if request.content_type != FORM:
        raise CannotRedirect(f"The form must be sent as {FORM}.", status=415, reason="form_content_type")
    body = await request.read()  # bounded by client_max_size: larger bodies are a 413
    return _parse(body, request, lenient)


async def authorization_params(request: web.Request) -> Params:
    """RFC 6749 §3.1: GET carries the query; POST a form body (OIDC Core §3.1.2.1)."""
    if request.method == "POST":
        return await form_params(request, lenient=True)
    return query_params(request, lenient=True)


def _parse(raw: str | bytes, request: web.Request, lenient: bool) -> Params:
    try:
        return parse_urlencoded(raw, max_params=request.app[SETTINGS].max_params, lenient=lenient)
    except MalformedParameters as exc:
        raise CannotRedirect(f"The request is malformed: {exc}.", reason="malformed_parameters") from None
