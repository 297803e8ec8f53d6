"""GET and POST /authorize: the authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2).

The order matters: until the client and its redirect URI are verified every error is a page;
after that every error, including a store being down, goes back to the client with its state.
"""

from __future__ import annotations

import logging

from aiohttp import web

from services.authorize import flow
from services.authorize.app_keys import POLICY, STORES
from services.authorize.core.authorization_request import validate_authorization_request
from services.authorize.core.client_redirect import client_id_of, known_client, verified_redirect_uri
from services.authorize.core.errors import CannotRedirect
from services.authorize.error_pages import ErrorForClient
from services.authorize.inputs import authorization_params
from shared.errors import OAuthError, TemporarilyUnavailable
from shared.models import Client
from shared.stores.outages import STORE_ERRORS

log = logging.getLogger("latchkey.authorize")


async def handle(request: web.Request) -> web.Response:
    params = await authorization_params(request)
    client = known_client(await _find_client(request, client_id_of(params)))
    redirect = verified_redirect_uri(params, client)
    try:
        # The API catalog is cached: usually no query; one when stale or lacking what is asked for.
        catalog = await request.app[STORES].apis.knowing((params.first("scope") or "").split(),
                                                         params.first("resource"))
        authz = validate_authorization_request(params, client, redirect, request.app[POLICY], catalog)
        return await flow.start(request, authz, client)
    except OAuthError as error:
        raise ErrorForClient(error, redirect.uri, params.first("state")) from None
    except STORE_ERRORS:
        log.warning("store unavailable during authorization", exc_info=True)
        raise ErrorForClient(TemporarilyUnavailable("please try again in a moment"), redirect.uri,
                             params.first("state")) from None


async def _find_client(request: web.Request, client_id: str) -> Client | None:
    try:
        return await request.app[STORES].clients.get(client_id)
    except STORE_ERRORS:
        # Nothing is verified yet, so the user sees a page instead of a redirect.
        log.warning("store unavailable while looking up a client", exc_info=True)
        raise CannotRedirect("Sign-in is temporarily unavailable. Please try again in a moment.",
                             status=503, reason="store_unavailable") from None
