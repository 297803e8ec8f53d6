"""GET /account: the signed-in user's authorized applications, sessions and password form.

Without a session the browser goes to the login page for an account sign-in (a record of its
own in the transaction store whose only destination is this page) and comes back here.

The forms (account_actions.py) carry a one-time token bound to this browser's session, as the
sign-out confirmation does: a link or a form on another site cannot act, and a replayed form is
refused. Every answer carries the page CSP and Cache-Control: no-store (security_headers).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from services.authorize.app_keys import COOKIES, PATHS, POOL, SETTINGS, STORES
from services.authorize.core.account_sign_in import AccountSignIn
from services.authorize.core.errors import CannotRedirect
from services.authorize.inputs import query_params
from services.authorize.pages import redirect, render
from services.authorize.sessions import EXPIRED, browser_binding, current_session
from shared.crypto.digests import constant_time_equals, new_secret
from shared.models import User
from shared.oauth.params import Params
from shared.stores.pg_authorized_apps import PgAuthorizedApps
from shared.stores.redis_sessions import RedisSessions, Session

FORM = "account"  # the kind of the one-time record behind the page's forms
EXPIRED_FORM = "This form has expired or was already used. Reload your account page and try again."
# The forms' addresses under the page's own (routes.py serves them).
ACTIONS = {"revoke": "/applications/revoke", "end_session": "/sessions/end", "end_all": "/sessions/end-all",
           "password": "/password"}
# What a redirect after a form may announce: fixed texts picked by key, never text from the URL.
NOTICES = {
    "revoked": "The application's access was removed.",
    "session_ended": "The session was ended.",
    "password_changed": "Your password was changed. Your other sessions were signed out.",
}


class SignedIn:
    """This browser's session and its user, both still valid."""

    def __init__(self, session_id: str, session: Session, user: User) -> None:
        self.session_id, self.session, self.user = session_id, session, user

    @property
    def digest(self) -> str:
        return RedisSessions.digest(self.session_id)


async def show(request: web.Request) -> web.Response:
    who = await signed_in(request)
    if who is None:
        return await sign_in_first(request)
    notice = NOTICES.get(query_params(request).first("done") or "")
    return await page(request, who, notice=notice)


async def signed_in(request: web.Request) -> SignedIn | None:
    session_id, session = await current_session(request)
    if session_id is None or session is None:
        return None
    user = await request.app[STORES].users.get(session.user_id)
    return None if user is None or user.disabled else SignedIn(session_id, session, user)


async def sign_in_first(request: web.Request) -> web.Response:
    """To the login page, for a sign-in that comes back here (see login.py)."""
    browser, new_browser = browser_binding(request)
    record = AccountSignIn(csrf=new_secret(32), browser=browser).to_record()
    tx_id = await request.app[STORES].transactions.create(record, request.app[SETTINGS].transaction_ttl)
    response = redirect(f"{request.app[PATHS].login}?tx={tx_id}", after_post=request.method == "POST")
    if new_browser is not None:
        request.app[COOKIES].set_browser(response, new_browser)
    return response


async def after_sign_in(request: web.Request, tx_id: str) -> web.Response:
    """The login for an account sign-in succeeded: its record is used up, and back to this page."""
    if await request.app[STORES].transactions.take(tx_id) is None:
        raise CannotRedirect(EXPIRED, reason="transaction_expired")
    return redirect(request.app[PATHS].account, after_post=True)


async def page(request: web.Request, who: SignedIn, *, notice: str | None = None, error: str | None = None,
               status: int = 200) -> web.Response:
    stores, settings = request.app[STORES], request.app[SETTINGS]
    token, apps, sessions, catalog = await asyncio.gather(
        stores.transactions.create({"kind": FORM, "session": who.digest}, settings.transaction_ttl),
        PgAuthorizedApps(request.app[POOL]).of_user(who.user.id),
        stores.sessions.listed_of_user(who.session.user_id),
        stores.apis.catalog())
    return render(request, "account.html", {
        "username": who.user.username, "csrf": token, "notice": notice, "error": error,
        "actions": {name: request.app[PATHS].account + suffix for name, suffix in ACTIONS.items()},
        "apps": [{"client_id": a.client_id, "name": a.client_name, "consented": _when(a.consented_at),
                  "last_used": _when(a.last_used_at) if a.last_used_at else None,
                  "scopes": [(s, catalog.description(s)) for s in a.scopes]} for a in apps],
        "sessions": [{"handle": digest, "signed_in": _when(datetime.fromtimestamp(s.auth_time, UTC)),
                      "current": constant_time_equals(digest, who.digest)}
                     for digest, s in sorted(sessions, key=lambda pair: -pair[1].auth_time)],
    }, status=status)


async def checked_form(request: web.Request, form: Params) -> SignedIn:
    """A form of this page: its one-time token is taken and must belong to this browser's session."""
    token = form.first("csrf") or ""
    record = await request.app[STORES].transactions.take(token) if token else None
    who = await signed_in(request)
    if (record is None or record.get("kind") != FORM or who is None
            or not constant_time_equals(str(record.get("session", "")), who.digest)):
        raise CannotRedirect(EXPIRED_FORM, status=403, reason="account_form_expired")
    return who


def _when(moment: datetime) -> dict[str, Any]:
    """For a <time> element: machine-readable ISO 8601 and a short UTC text."""
    utc = moment.astimezone(UTC)
    return {"iso": utc.isoformat(timespec="seconds"), "text": utc.strftime("%d %b %Y, %H:%M UTC")}
