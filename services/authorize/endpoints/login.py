"""GET and POST /login: username and password for the transaction in the URL.

An unknown user and a wrong password get the same page after the same argon2 work; attempts per
username and per client IP are counted before any hashing; past the limit they get 429.
"""

from __future__ import annotations

from aiohttp import web

from services.authorize import flow
from services.authorize.core.decisions import Authenticated
from services.authorize.core.transaction import Transaction
from services.authorize.inputs import form_params
from services.authorize.app_keys import COOKIES, PASSWORDS, SETTINGS, STORES
from services.authorize.pages import message_page, render
from services.authorize.sessions import check_csrf, load_transaction, now, start_session
from shared.models import AuditEvent, User
from shared.web.client_address import client_address

WRONG_CREDENTIALS = "That username and password do not match. Please try again."
MISSING_CREDENTIALS = "Enter your username and password."


async def show(request: web.Request) -> web.Response:
    _, tx = await load_transaction(request)
    return login_page(request, tx, username=tx.request.login_hint or "")


async def submit(request: web.Request) -> web.Response:
    tx_id, tx = await load_transaction(request)
    form = await form_params(request)
    check_csrf(form, tx.csrf)
    username, password = form.first("username") or "", form.first("password") or ""
    if not username or not password:
        return login_page(request, tx, username=username, error=MISSING_CREDENTIALS)
    stores = request.app[STORES]
    ip = client_address(request, request.app[SETTINGS].trusted_proxies)
    # Counted before hashing, atomically: concurrent attempts cannot all slip under the limit.
    attempt = await stores.throttle.reserve(username, ip)
    if attempt.blocked:
        return message_page(request, "Too many attempts", "Too many sign-in attempts. "
                            "Please wait a few minutes and try again.", status=429)
    user = await authenticate(request, username, password)
    if user is None:
        if limit := stores.throttle.limit_reached(attempt):
            await stores.audit.record(AuditEvent("login_throttled", client_id=tx.request.client_id, remote_addr=ip,
                                                 details={"limit": limit}))
        return login_page(request, tx, username=username, error=WRONG_CREDENTIALS)
    await stores.throttle.succeeded(username, ip)
    signed_in = Authenticated(user_id=str(user.id), username=user.username, auth_time=now())
    # In sequence: the old session ends only once the flow has moved on, so a transaction that
    # can no longer finish (e.g. a double submit) does not silently sign the user out.
    response = await flow.after_login(request, tx_id, tx.authenticated(signed_in))
    request.app[COOKIES].set_session(response, await start_session(request, signed_in))
    return response


async def authenticate(request: web.Request, username: str, password: str) -> User | None:
    """One argon2 verification whatever happens: unknown and disabled users check a decoy hash."""
    user = await request.app[STORES].users.get_by_username(username)
    usable = user is not None and not user.disabled
    ok = await request.app[PASSWORDS].verify(user.password_hash if usable else None, password)
    return user if ok else None


def login_page(request: web.Request, tx: Transaction, *, username: str, error: str | None = None) -> web.Response:
    return render(request, "login.html", {"client_name": tx.client_name, "csrf": tx.csrf, "username": username,
                                          "error": error}, returns_to=tx.request.redirect_uri)
