"""The steps between a validated request and its code: login and consent, or straight through.

Shared by /authorize (a returning user), /login and /consent. The pure rules live in
core.decisions; this module only does the I/O around them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import replace
from uuid import uuid4

from aiohttp import web

from services.authorize.app_keys import COOKIES, METRICS, PATHS, SETTINGS, STORES
from services.authorize.core.authorization_request import AuthorizationRequest
from services.authorize.core.decisions import (
    Authenticated,
    check_hinted_user,
    must_consent,
    must_log_in,
    silent_offline_access,
)
from services.authorize.core.errors import CannotRedirect
from services.authorize.core.grants import grant_for
from services.authorize.core.redirects import code_response
from services.authorize.core.transaction import Transaction
from services.authorize.error_pages import ErrorForClient
from services.authorize.pages import redirect
from services.authorize.sessions import EXPIRED, as_authenticated, browser_binding, current_session, now
from shared.crypto.digests import new_secret
from shared.errors import LoginRequired
from shared.models import Client
from shared.web.request_context import note_client


async def start(request: web.Request, authz: AuthorizationRequest, client: Client) -> web.Response:
    """A returning user with consent gets the code at once; anyone else goes into a transaction."""
    stores = request.app[STORES]
    _, session = await current_session(request)
    user = as_authenticated(session)
    granted: frozenset[str] = frozenset()
    if user is not None and not must_log_in(authz, user, now()):
        # One round trip for both: is the account still usable, and what did it approve?
        account, granted = await asyncio.gather(stores.users.get(user.user_id),
                                                stores.consents.granted_scopes(user.user_id, client.client_id))
        if account is None or account.disabled:
            user = None
    if must_log_in(authz, user, now()):  # raises login_required for prompt=none
        return await begin(request, authz, client, user=None)
    assert user is not None
    authz = silent_offline_access(authz, granted)
    if must_consent(authz, granted):
        return await begin(request, authz, client, user=user, granted=granted)
    return await issue_code(request, authz, user)


async def begin(request: web.Request, authz: AuthorizationRequest, client: Client,
                user: Authenticated | None, granted: frozenset[str] = frozenset()) -> web.Response:
    """Stores the transaction and sends the browser to the login page (or consent, if known)."""
    app = request.app
    browser, new_browser = browser_binding(request)
    tx = Transaction(request=authz, client_name=client.name, csrf=new_secret(32), browser=browser,
                     user=user).with_granted(granted)
    tx_id = await app[STORES].transactions.create(tx.to_record(), app[SETTINGS].transaction_ttl)
    page = app[PATHS].consent if user else app[PATHS].login
    response = redirect(f"{page}?tx={tx_id}", after_post=request.method == "POST")
    if new_browser is not None:
        app[COOKIES].set_browser(response, new_browser)
    return response


async def restart(request: web.Request, tx: Transaction) -> web.Response:
    """Switch account: the same request again, as with prompt=login, in a new transaction (new id,
    new CSRF token; the caller took the old one) with nobody signed in, at the login page.

    The login_hint goes: it named the account being switched away from.
    """
    fresh = Transaction(request=replace(tx.request, login_hint=None), client_name=tx.client_name,
                        csrf=new_secret(32), browser=tx.browser)
    tx_id = await request.app[STORES].transactions.create(fresh.to_record(), request.app[SETTINGS].transaction_ttl)
    return redirect(f"{request.app[PATHS].login}?tx={tx_id}", after_post=True)


async def after_login(request: web.Request, tx_id: str, tx: Transaction) -> web.Response:
    assert tx.user is not None
    try:
        check_hinted_user(tx.request, tx.user)
    except LoginRequired as error:
        await request.app[STORES].transactions.take(tx_id)
        raise ErrorForClient(error, tx.request.redirect_uri, tx.request.state) from None
    granted = await request.app[STORES].consents.granted_scopes(tx.user.user_id, tx.request.client_id)
    if must_consent(tx.request, granted):
        if not await request.app[STORES].transactions.replace(tx_id, tx.with_granted(granted).to_record()):
            raise CannotRedirect(EXPIRED, reason="transaction_expired", client_id=tx.request.client_id)
        return redirect(f"{request.app[PATHS].consent}?tx={tx_id}", after_post=True)
    return await complete(request, tx_id, tx)


async def complete(request: web.Request, tx_id: str, tx: Transaction) -> web.Response:
    """Ends the transaction exactly once (a double submit finds it gone) and issues the code."""
    assert tx.user is not None
    return await issue_code(request, tx.request, tx.user, completing=tx_id)


async def issue_code(request: web.Request, authz: AuthorizationRequest, user: Authenticated,
                     completing: str | None = None) -> web.Response:
    """RFC 6749 §4.1.2: a 256-bit single-use code bound to the request, living code_ttl seconds.

    ``completing`` names the transaction this code ends: it is taken in the same atomic step as
    the code is saved, so of two racing submits exactly one gets a code, the other EXPIRED.
    """
    settings, stores = request.app[SETTINGS], request.app[STORES]
    code = new_secret(32)
    grant = grant_for(authz, user, str(uuid4()))
    save: Awaitable[bool | None]
    if completing is None:
        save = stores.codes.save(code, grant, settings.code_ttl)
    else:
        save = stores.codes.save_taking(code, grant, settings.code_ttl, taking=stores.transactions.key(completing))
    # The session's list of clients to tell at logout gets this one beside the code, in the same
    # wait; if either write fails the browser gets an error, never the code.
    recorded = (stores.sessions.record_client(user.sid, authz.client_id, user.auth_time + settings.session_ttl - now())
                if user.sid else asyncio.sleep(0))
    saved, _ = await asyncio.gather(save, recorded)
    if saved is False:
        raise CannotRedirect(EXPIRED, reason="transaction_expired", client_id=authz.client_id)
    request.app[METRICS].code("issued", authz.client_id)
    note_client(request, authz.client_id)
    location = code_response(authz.redirect_uri, code=code, state=authz.state, issuer=settings.issuer)
    return redirect(location, after_post=request.method == "POST")
