"""GET and POST /authorize: the authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2).

The order matters: until the client and its redirect URI are verified every error is a page;
after that every error, including a store being down, goes back to the client with its state.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from urllib.parse import urlencode

from aiohttp import web

from services.authorize import flow
from services.authorize.app_keys import COOKIES, PATHS, POLICY, STORES
from services.authorize.core.authorization_request import validate_authorization_request
from services.authorize.core.client_redirect import client_id_of, echoed_state, known_client, verified_redirect_uri
from services.authorize.core.errors import CannotRedirect
from services.authorize.core.logout_request import BadHint
from services.authorize.error_pages import ErrorForClient
from services.authorize.id_token_hints import request_hint
from services.authorize.inputs import authorization_params
from services.authorize.pages import redirect
from shared.errors import InvalidRequest, OAuthError, TemporarilyUnavailable
from shared.models import Client
from shared.oauth.params import Params
from shared.stores.outages import STORE_ERRORS

log = logging.getLogger("latchkey.authorize")


# Longest Location a POST is turned into; longer ones (a large request) are answered as POSTed.
# 8 KiB is what common gateways accept in a request line (nginx's large_client_header_buffers).
MAX_GET_URL_BYTES = 8000


async def handle(request: web.Request) -> web.Response:
    params = await authorization_params(request)
    client = known_client(await _find_client(request, client_id_of(params)))
    redirect = verified_redirect_uri(params, client)
    state = echoed_state(params, client)
    try:
        # The API catalog is cached: usually no query; one when stale or lacking what is asked for.
        catalog = await request.app[STORES].apis.knowing((params.first("scope") or "").split(),
                                                         params.first("resource"))
        authz = validate_authorization_request(params, client, redirect, request.app[POLICY], catalog)
        if (raw_hint := params.first("id_token_hint")) is not None:
            authz = replace(authz, hinted_subject=await hinted_subject(request, raw_hint))
        if cookie_withheld(request) and (again := as_get(request, params)) is not None:
            return again
        return await flow.start(request, authz, client)
    except OAuthError as error:
        raise ErrorForClient(error, redirect.uri, state) from None
    except STORE_ERRORS:
        log.warning("store unavailable during authorization", exc_info=True)
        raise ErrorForClient(TemporarilyUnavailable("please try again in a moment"), redirect.uri, state) from None


def cookie_withheld(request: web.Request) -> bool:
    """A browser's cross-site POST (Fetch Metadata), which SameSite=Lax keeps the session cookie off."""
    return (request.method == "POST" and request.headers.get("Sec-Fetch-Site") == "cross-site"
            and request.app[COOKIES].session_id(request) is None)


def as_get(request: web.Request, params: Params) -> web.Response | None:
    """An authorization request POSTed from the client's site (OIDC Core §3.1.2.1) arrives without
    the session cookie. Answered as is, a signed-in user would be asked to sign in again and
    ``prompt=none`` would answer ``login_required``. The same parameters again as a GET (303), a
    top-level navigation that carries the cookie, reach the session; a GET is never sent on, so
    this happens at most once. Only a valid request is sent on (errors are answered as before),
    and the GET is validated in full again. None when the URL would be too long for a gateway."""
    location = f"{request.app[PATHS].authorize}?{urlencode(list(params.pairs()))}"
    if len(location) > MAX_GET_URL_BYTES:
        return None
    return redirect(location, after_post=True)


async def hinted_subject(request: web.Request, raw_hint: str) -> str:
    """OIDC Core §3.1.2.1: the user an id_token_hint names, once it is verified as an ID token this
    server issued (signature, iss; expired or not, as at sign-out); else invalid_request."""
    try:
        hint = await request_hint(request, raw_hint)
    except BadHint as bad:
        raise InvalidRequest(f"id_token_hint: {bad}") from None
    return hint.sub


async def _find_client(request: web.Request, client_id: str) -> Client | None:
    try:
        return await request.app[STORES].clients.get(client_id)
    except STORE_ERRORS:
        # Nothing is verified yet, so the user sees a page instead of a redirect.
        log.warning("store unavailable while looking up a client", exc_info=True)
        raise CannotRedirect("Sign-in is temporarily unavailable. Please try again in a moment.",
                             status=503, reason="store_unavailable") from None
