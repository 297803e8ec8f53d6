"""The browser's login session and the transaction it is working on."""

from __future__ import annotations

import time

from aiohttp import web

from services.authorize.app_keys import COOKIES, SETTINGS, STORES
from services.authorize.core.account_sign_in import KIND as ACCOUNT_SIGN_IN
from services.authorize.core.account_sign_in import AccountSignIn
from services.authorize.core.decisions import Authenticated
from services.authorize.core.errors import CannotRedirect
from services.authorize.core.transaction import Transaction
from services.authorize.inputs import query_params
from shared.crypto.digests import constant_time_equals, new_secret, sha256_hex
from shared.oauth.params import Params
from shared.stores.redis_sessions import Session
from shared.stores.redis_transactions import Record

EXPIRED = ("This sign-in request has expired or was already completed. "
           "Return to the application and start again.")


async def current_session(request: web.Request) -> tuple[str | None, Session | None]:
    session_id = request.app[COOKIES].session_id(request)
    if session_id is None:
        return None, None
    return session_id, await request.app[STORES].sessions.get(session_id)


def as_authenticated(session: Session | None) -> Authenticated | None:
    if session is None:
        return None
    return Authenticated(session.user_id, session.username, session.auth_time, session.sid or None)


async def start_session(request: web.Request, user: Authenticated) -> str:
    """A new session id at every login (no fixation); the browser's old session ends."""
    session = Session(user_id=user.user_id, username=user.username, auth_time=user.auth_time, csrf=new_secret(32),
                      sid=user.sid or new_sid())
    return await request.app[STORES].sessions.start(session, request.app[SETTINGS].session_ttl,
                                                    replacing=request.app[COOKIES].session_id(request))


async def load_transaction(request: web.Request) -> tuple[str, Transaction]:
    """The transaction named in the URL, which must belong to this browser."""
    tx_id = _tx_id(request)
    return tx_id, _as_transaction(_of_this_browser(request, await request.app[STORES].transactions.get(tx_id)))


async def load_transaction_and_session(request: web.Request) -> tuple[str, Transaction, Session | None]:
    """As load_transaction, with the browser's session read in the same round trip."""
    tx_id, record, session = await _load_with_session(request)
    return tx_id, _as_transaction(record), session


async def load_sign_in(request: web.Request) -> tuple[str, Transaction | AccountSignIn, Session | None]:
    """What the login page serves: an authorization transaction or a sign-in for the account page."""
    tx_id, record, session = await _load_with_session(request)
    if record.get("kind") == ACCOUNT_SIGN_IN:
        return tx_id, AccountSignIn.from_record(record), session
    return tx_id, _as_transaction(record), session


async def _load_with_session(request: web.Request) -> tuple[str, Record, Session | None]:
    tx_id, stores = _tx_id(request), request.app[STORES]
    record, session = await stores.transactions.get_with_session(tx_id, stores.sessions,
                                                                 request.app[COOKIES].session_id(request))
    return tx_id, _of_this_browser(request, record), session


def _tx_id(request: web.Request) -> str:
    tx_id = query_params(request).first("tx")
    if tx_id is None:
        raise CannotRedirect("This sign-in link is incomplete. Return to the application and start again.",
                             reason="transaction_missing")
    return tx_id


def _of_this_browser(request: web.Request, record: Record | None) -> Record:
    if record is None:
        raise CannotRedirect(EXPIRED, reason="transaction_expired")
    browser = request.app[COOKIES].browser_id(request) or ""
    if not constant_time_equals(str(record.get("browser", "")), sha256_hex(browser)):
        raise CannotRedirect("This sign-in request was started in another browser, or this browser blocks "
                             "cookies. Return to the application and start again here.", reason="other_browser",
                             client_id=_client_id_of(record))
    return record


def _client_id_of(record: Record) -> str | None:
    """The client an authorization's record is for (None for other kinds: account sign-ins)."""
    request = record.get("request")
    client_id = request.get("client_id") if isinstance(request, dict) and "kind" not in record else None
    return client_id if isinstance(client_id, str) else None


def _as_transaction(record: Record) -> Transaction:
    """Other records share the store (account sign-ins, logout confirmations): none of them is one."""
    if "kind" in record:
        raise CannotRedirect(EXPIRED, reason="transaction_expired")
    return Transaction.from_record(record)


def browser_binding(request: web.Request) -> tuple[str, str | None]:
    """The digest a new transaction is bound to, and the cookie to set when the browser has none."""
    browser = request.app[COOKIES].browser_id(request)
    fresh = new_secret(32) if browser is None else None
    return sha256_hex(browser or fresh or ""), fresh


def check_csrf(form: Params, expected: str, client_id: str | None = None) -> None:
    if not constant_time_equals(form.first("csrf") or "", expected):
        raise CannotRedirect("This form has expired. Go back, reload the page and try again.", status=403,
                             reason="csrf_mismatch", client_id=client_id)


def new_sid() -> str:
    """A session id for relying parties: random, unrelated to the cookie (Back-Channel Logout §2.1)."""
    return new_secret(32)


def now() -> int:
    return int(time.time())
