"""GET and POST /consent: the user allows or denies the client the requested scopes.

OIDC Core §3.1.2.4. Allow is remembered per user and client (consent only grows), so a later
request for the same or fewer scopes skips this page; deny is access_denied at the client.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from services.authorize import flow
from services.authorize.app_keys import PATHS, STORES
from services.authorize.core.errors import CannotRedirect
from services.authorize.core.scopes import describe
from services.authorize.core.transaction import Transaction
from services.authorize.error_pages import ErrorForClient
from services.authorize.inputs import form_params
from services.authorize.pages import redirect, render
from services.authorize.sessions import EXPIRED, check_csrf, load_transaction_and_session
from shared.errors import AccessDenied
from shared.stores.redis_sessions import Session

DECISIONS = ("allow", "deny")
SIGNED_OUT = ("You signed out or switched accounts while this request was open. "
              "Return to the application and start again.")


async def show(request: web.Request) -> web.Response:
    tx_id, tx, session = await load_transaction_and_session(request)
    if tx.user is None:
        return redirect(f"{request.app[PATHS].login}?tx={tx_id}", after_post=False)
    check_same_user(session, tx)
    catalog = await request.app[STORES].apis.catalog()
    return render(request, "consent.html", {
        "client_name": tx.client_name, "csrf": tx.csrf, "username": tx.user.username,
        "scopes": describe(tx.request.scope, catalog), "returns_to": _host(tx.request.redirect_uri),
        "switch_action": f"{request.app[PATHS].switch_account}?tx={tx_id}", "account_path": request.app[PATHS].account,
    }, returns_to=tx.request.redirect_uri)


async def submit(request: web.Request) -> web.Response:
    """At most three waits: transaction and session together, the consent, the code."""
    tx_id, tx, session = await load_transaction_and_session(request)
    form = await form_params(request)
    client_id = tx.request.client_id
    check_csrf(form, tx.csrf, client_id)
    if tx.user is None:
        raise CannotRedirect("Sign in before answering this request.", reason="not_signed_in", client_id=client_id)
    decision = form.first("decision")
    if decision not in DECISIONS:
        raise CannotRedirect("Choose Allow or Deny.", reason="no_decision", client_id=client_id)
    if not _same_user(session, tx):
        await request.app[STORES].transactions.take(tx_id)  # the user has to start again anyway
        raise CannotRedirect(SIGNED_OUT, reason="signed_out", client_id=client_id)
    if decision == "deny":
        if await request.app[STORES].transactions.take(tx_id) is None:
            raise CannotRedirect(EXPIRED, reason="transaction_expired", client_id=client_id)
        raise ErrorForClient(AccessDenied("the user denied the request"), tx.request.redirect_uri, tx.request.state)
    return await allow(request, tx_id, tx)


async def allow(request: web.Request, tx_id: str, tx: Transaction) -> web.Response:
    """Remembers any newly approved scopes (consent only grows), then issues the code.

    In this order: a code is never issued for a consent that failed to be stored. The code is
    saved only if the transaction is still there to take (see flow.issue_code); a losing double
    submit may store the same consent again, which changes nothing.
    """
    assert tx.user is not None
    if tx.adds_consent:
        await request.app[STORES].consents.grant(tx.user.user_id, tx.request.client_id, frozenset(tx.request.scope))
    return await flow.issue_code(request, tx.request, tx.user, completing=tx_id)


def check_same_user(session: Session | None, tx: Transaction) -> None:
    if not _same_user(session, tx):
        raise CannotRedirect(SIGNED_OUT, reason="signed_out", client_id=tx.request.client_id)


def _same_user(session: Session | None, tx: Transaction) -> bool:
    """Consent is given by the user who signed in for this transaction, still signed in here, in
    the same session: a code names the session its ID token's sid says (Back-Channel Logout §2.1),
    so one left open across a sign-out and a new sign-in must not name the ended one."""
    return (session is not None and tx.user is not None and session.user_id == tx.user.user_id
            and (session.sid or None) == tx.user.sid)


def _host(uri: str) -> str:
    parts = urlsplit(uri)
    return parts.netloc or f"{parts.scheme}:"
