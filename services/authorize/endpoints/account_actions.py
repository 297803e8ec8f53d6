"""The account page's forms (POST): revoke an application, end a session or all, change the password.

Each acts only on the user of this browser's session, named by the session and never by the
form, after its one-time token is checked (account.checked_form); then it redirects back to the
page (303, so a reload does not post again). What others must hear of goes through
account_events, one call per event.
"""

from __future__ import annotations

import re

from aiohttp import web

from services.authorize import account_events
from services.authorize.app_keys import COOKIES, PASSWORDS, PATHS, POOL, REDIS, SETTINGS, STORES
from services.authorize.core.errors import CannotRedirect
from services.authorize.endpoints.account import SignedIn, checked_form, page
from services.authorize.endpoints.login import throttled_page
from services.authorize.inputs import form_params
from services.authorize.pages import redirect
from shared.management.backends import Backends
from shared.management.consents import revoke_of_user
from shared.management.errors import InvalidInput
from shared.management.users import check_password, replace_password_hash
from shared.web.client_address import client_address

SESSION_HANDLE = re.compile(r"[0-9a-f]{64}")  # a session key digest (RedisSessions.listed_of_user)
WRONG_PASSWORD = "Your current password is not correct."
NOT_AUTHORIZED = "You have not authorized this application, or its access was already removed."
NO_SUCH_SESSION = "That session has already ended."


async def revoke(request: web.Request) -> web.Response:
    form = await form_params(request)
    who = await checked_form(request, form)
    client_id = form.first("client_id") or ""
    # Only the session's own user: another user's consent, or none, is simply not found.
    if not client_id or not await request.app[STORES].consents.granted_scopes(who.user.id, client_id):
        raise CannotRedirect(NOT_AUTHORIZED, status=404, reason="not_authorized")
    await revoke_of_user(_backends(request), who.user, client_id, actor="account")
    await account_events.application_revoked(request, str(who.user.id), client_id)
    return _back(request, "revoked")


async def end_session(request: web.Request) -> web.Response:
    form = await form_params(request)
    who = await checked_form(request, form)
    handle = form.first("session") or ""
    ended = (await request.app[STORES].sessions.end_of_user(who.session.user_id, handle)
             if SESSION_HANDLE.fullmatch(handle) else None)
    if ended is None:  # not a session of this user (or over already)
        raise CannotRedirect(NO_SUCH_SESSION, status=404, reason="no_such_session")
    await account_events.session_ended(request, ended, initiated_by="account")
    if handle == who.digest:  # this browser's own: signed out, and the page asks to sign in again
        return _signed_out(request)
    return _back(request, "session_ended")


async def end_all(request: web.Request) -> web.Response:
    who = await checked_form(request, await form_params(request))
    for ended in await _end_sessions(request, who, keep=None):
        await account_events.session_ended(request, ended, initiated_by="account")
    return _signed_out(request)


async def change_password(request: web.Request) -> web.Response:
    """Current password first (argon2 in its threads, throttled as a login is), then the CLI's
    policy for the new one; every other session ends, this one stays."""
    form = await form_params(request)
    who = await checked_form(request, form)
    current, new = form.first("current_password") or "", form.first("new_password") or ""
    try:
        check_password(new)
    except InvalidInput as exc:
        return await page(request, who, error=f"The new {exc}.", status=400)
    stores = request.app[STORES]
    ip = client_address(request, request.app[SETTINGS].trusted_proxies)
    attempt = await stores.throttle.begin(who.user.username, ip)
    if attempt.refused:
        return throttled_page(request, attempt.retry_after)
    try:
        ok = await request.app[PASSWORDS].verify(who.user.password_hash, current)
    except BaseException:
        await stores.throttle.abandoned(attempt)
        raise
    if not ok:
        await stores.throttle.failed(attempt)
        return await page(request, who, error=WRONG_PASSWORD, status=400)
    await stores.throttle.succeeded(attempt)
    await replace_password_hash(_backends(request), who.user.id, await request.app[PASSWORDS].hash(new),
                                actor="account")
    ended = await _end_sessions(request, who, keep=who.digest)
    await account_events.password_changed(request, str(who.user.id), ended)
    return _back(request, "password_changed")


async def _end_sessions(request: web.Request, who: SignedIn,
                        keep: str | None) -> list[account_events.EndedSession]:
    sessions = request.app[STORES].sessions
    ended = []
    for digest, _ in await sessions.listed_of_user(who.session.user_id):
        if digest != keep and (one := await sessions.end_of_user(who.session.user_id, digest)) is not None:
            ended.append(one)
    return ended


def _backends(request: web.Request) -> Backends:
    return Backends(request.app[POOL], request.app[REDIS], request.app[SETTINGS])


def _back(request: web.Request, done: str) -> web.Response:
    return redirect(f"{request.app[PATHS].account}?done={done}", after_post=True)


def _signed_out(request: web.Request) -> web.Response:
    response = redirect(request.app[PATHS].account, after_post=True)
    request.app[COOKIES].clear_session(response)
    return response
