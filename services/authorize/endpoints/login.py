"""GET and POST /login: username and password for the transaction in the URL.

An unknown user and a wrong password get the same page after the same argon2 work. Past a limit
of shared/stores/redis_throttle.py (failures per username or per client IP, attempts in flight
per IP) an attempt gets 429 before any hashing, saying how long to wait.
"""

from __future__ import annotations

from aiohttp import web

from services.authorize import account_events, flow
from services.authorize.app_keys import COOKIES, METRICS, PASSWORDS, PATHS, SETTINGS, STORES
from services.authorize.core.account_sign_in import AccountSignIn
from services.authorize.core.decisions import Authenticated
from services.authorize.core.transaction import Transaction
from services.authorize.endpoints import account
from services.authorize.inputs import form_params
from services.authorize.pages import BackLink, back_link, message_page, registered_client, render
from services.authorize.sessions import check_csrf, load_sign_in, new_sid, now, start_session
from shared.models import AuditEvent, User
from shared.stores.redis_sessions import Session
from shared.web.client_address import client_address
from shared.web.request_context import note_error

WRONG_CREDENTIALS = "That username and password do not match. Please try again."
MISSING_CREDENTIALS = "Enter your username and password."


async def show(request: web.Request) -> web.Response:
    tx_id, tx, session = await load_sign_in(request)
    hint = tx.request.login_hint if isinstance(tx, Transaction) else None
    return login_page(request, tx_id, tx, session, username=hint or "")


async def submit(request: web.Request) -> web.Response:
    tx_id, tx, session = await load_sign_in(request)
    form = await form_params(request)
    client_id = tx.request.client_id if isinstance(tx, Transaction) else None
    check_csrf(form, tx.csrf, client_id)
    username, password = form.first("username") or "", form.first("password") or ""
    if not username or not password:
        return login_page(request, tx_id, tx, session, username=username, error=MISSING_CREDENTIALS)
    stores = request.app[STORES]
    ip = client_address(request, request.app[SETTINGS].trusted_proxies)
    # Places taken before hashing, atomically: concurrent guesses cannot all slip under a limit.
    attempt = await stores.throttle.begin(username, ip)
    metrics = request.app[METRICS]
    if attempt.refused:
        metrics.login("throttled", client_id)
        note_error(request, "login_throttled", f"limit_{attempt.refused}")
        return throttled_page(request, attempt.retry_after, back_link(await registered_client(request, client_id)))
    try:
        user = await authenticate(request, username, password)
    except BaseException:
        await stores.throttle.abandoned(attempt)
        raise
    if user is None:
        metrics.login("failed", client_id)
        if limit := await stores.throttle.failed(attempt):
            await stores.audit.record(AuditEvent("login_throttled", client_id=client_id, remote_addr=ip,
                                                 details={"limit": limit}))
        return login_page(request, tx_id, tx, session, username=username, error=WRONG_CREDENTIALS)
    await stores.throttle.succeeded(attempt)
    metrics.login("succeeded", client_id)
    # The sid is fixed before the code is issued: the code (and so the ID token) carries it.
    # Signing in again as the same user (prompt=login, max_age) keeps the session's sid: the
    # session goes on, with a new cookie and auth_time, and its relying parties stay signed in.
    same_user = session is not None and session.user_id == str(user.id)
    sid = session.sid if same_user and session is not None and session.sid else new_sid()
    signed_in = Authenticated(user_id=str(user.id), username=user.username, auth_time=now(), sid=sid)
    # In sequence: the old session ends only once the flow has moved on, so a transaction that
    # can no longer finish (e.g. a double submit) does not silently sign the user out.
    if isinstance(tx, AccountSignIn):
        response = await account.after_sign_in(request, tx_id)
    else:
        response = await flow.after_login(request, tx_id, tx.authenticated(signed_in))
    if session is not None and not same_user:
        await end_previous_session(request, session)
    request.app[COOKIES].set_session(response, await start_session(request, signed_in))
    return response


async def end_previous_session(request: web.Request, session: Session) -> None:
    """Another user signed in in this browser: its session ended, and the relying parties it
    signed in to are told (OIDC Back-Channel Logout §2.7), as after "Not you?"."""
    stores, session_id = request.app[STORES], request.app[COOKIES].session_id(request)
    if session_id is None:
        return
    ended = await stores.sessions.end_of_user(session.user_id, stores.sessions.digest(session_id))
    if ended is not None:
        await account_events.session_ended(request, ended, initiated_by="login")


async def authenticate(request: web.Request, username: str, password: str) -> User | None:
    """One argon2 verification whatever happens: unknown and disabled users check a decoy hash."""
    user = await request.app[STORES].users.get_by_username(username)
    usable_hash = user.password_hash if user is not None and not user.disabled else None
    ok = await request.app[PASSWORDS].verify(usable_hash, password)
    return user if ok else None


def throttled_page(request: web.Request, retry_after: int, back_to: BackLink | None = None) -> web.Response:
    """429 saying how long until the limit lifts, in the page and in Retry-After (RFC 6585 §4)."""
    response = message_page(request, "Too many attempts",
                            f"Too many sign-in attempts. Please try again in {wait_in_words(retry_after)}.",
                            status=429, back_to=back_to)
    response.headers["Retry-After"] = str(retry_after)
    return response


def wait_in_words(seconds: int) -> str:
    """Whole seconds under a minute, else minutes rounded up: never less than the real wait."""
    amount, unit = (seconds, "second") if seconds < 60 else (-(-seconds // 60), "minute")
    return f"{amount} {unit}{'s' if amount != 1 else ''}"


def login_page(request: web.Request, tx_id: str, tx: Transaction | AccountSignIn, session: Session | None, *,
               username: str, error: str | None = None) -> web.Response:
    """For an authorization, "Not you?" offers to switch away from the account the page names:
    the one signed in here (prompt=login, max_age) or the one the client hinted at."""
    if isinstance(tx, AccountSignIn):
        return render(request, "login.html", {"client_name": None, "csrf": tx.csrf, "username": username,
                                              "error": error, "switch_from": None, "switch_action": None})
    switch_from = session.username if session is not None else tx.request.login_hint
    return render(request, "login.html", {
        "client_name": tx.client_name, "csrf": tx.csrf, "username": username, "error": error,
        "switch_from": switch_from, "switch_action": f"{request.app[PATHS].switch_account}?tx={tx_id}",
    }, returns_to=tx.request.redirect_uri)
