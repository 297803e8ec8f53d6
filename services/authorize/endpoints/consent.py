"""GET and POST /consent: the user allows or denies the client the requested scopes.

OIDC Core §3.1.2.4. Allow is remembered per user and client (consent only grows), so a later
request for the same or fewer scopes skips this page; deny is access_denied at the client.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from aiohttp import web

from services.authorize import flow
from services.authorize.core.errors import CannotRedirect
from services.authorize.core.scopes import describe
from services.authorize.core.transaction import Transaction
from services.authorize.error_pages import ErrorForClient
from services.authorize.inputs import form_params
from services.authorize.keys import PATHS, STORES
from services.authorize.pages import redirect, render
from services.authorize.sessions import EXPIRED, check_csrf, current_session, load_transaction
from shared.errors import AccessDenied

DECISIONS = ("allow", "deny")


async def show(request: web.Request) -> web.Response:
    tx_id, tx = await load_transaction(request)
    if tx.user is None:
        return redirect(f"{request.app[PATHS].login}?tx={tx_id}", after_post=False)
    await same_user_still_signed_in(request, tx)
    return render(request, "consent.html", {
        "client_name": tx.client_name, "csrf": tx.csrf, "username": tx.user.username,
        "scopes": describe(tx.request.scope), "returns_to": _host(tx.request.redirect_uri),
    }, returns_to=tx.request.redirect_uri)


async def submit(request: web.Request) -> web.Response:
    tx_id, tx = await load_transaction(request)
    form = await form_params(request)
    check_csrf(form, tx.csrf)
    if tx.user is None:
        raise CannotRedirect("Sign in before answering this request.")
    decision = form.first("decision")
    if decision not in DECISIONS:
        raise CannotRedirect("Choose Allow or Deny.")
    # One round trip for both: taking the transaction before the session check has failed is
    # harmless, since a user who signed out has to start again anyway.
    taken, _ = await asyncio.gather(request.app[STORES].transactions.take(tx_id),
                                    same_user_still_signed_in(request, tx))
    if taken is None:
        raise CannotRedirect(EXPIRED)
    if decision == "deny":
        raise ErrorForClient(AccessDenied("the user denied the request"), tx.request.redirect_uri, tx.request.state)
    return await allow(request, tx)


async def allow(request: web.Request, tx: Transaction) -> web.Response:
    """Remembers any newly approved scopes (consent only grows), then issues the code.

    In this order: a code is never issued for a consent that failed to be stored.
    """
    assert tx.user is not None
    if tx.adds_consent:
        await request.app[STORES].consents.grant(tx.user.user_id, tx.request.client_id, frozenset(tx.request.scope))
    return await flow.issue_code(request, tx.request, tx.user)


async def same_user_still_signed_in(request: web.Request, tx: Transaction) -> None:
    """Consent is given by the user who signed in for this transaction, still signed in here."""
    _, session = await current_session(request)
    if session is None or tx.user is None or session.user_id != tx.user.user_id:
        raise CannotRedirect("You signed out or switched accounts while this request was open. "
                             "Return to the application and start again.")


def _host(uri: str) -> str:
    parts = urlsplit(uri)
    return parts.netloc or f"{parts.scheme}:"
