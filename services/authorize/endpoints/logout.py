"""GET and POST /logout: the end_session_endpoint (OIDC RP-Initiated Logout 1.0) and the sign-out page.

A relying party sends the browser here with ``id_token_hint``, ``client_id``,
``post_logout_redirect_uri`` and ``state`` (GET query or POST form, §2). With a verified hint for
the session signed in here (its user and its sid) the session ends at once; otherwise the user is
asked, and the session ends on a POST carrying a one-time token bound to this browser's session,
so a link or an image on another site cannot sign anyone out and a replayed form is refused.
Afterwards the browser goes to the post_logout_redirect_uri, with ``state``, only when that URI is
registered for the client and nothing failed validation (§3, §4); else it sees the signed-out
page. Every client that got tokens in the session is sent a logout token in the background
(shared.logout).
"""

from __future__ import annotations

import logging

from aiohttp import web

from services.authorize.app_keys import COOKIES, PATHS, POOL, REDIS, SETTINGS, STORES
from services.authorize.core import logout_request as rules
from services.authorize.core.errors import CannotRedirect
from services.authorize.core.logout_request import BadHint, HintClaims, LogoutRequest
from services.authorize.core.redirects import with_query
from services.authorize.id_token_hints import request_hint
from services.authorize.inputs import form_params, query_params
from services.authorize.pages import back_link, redirect, render
from services.authorize.sessions import current_session
from shared.crypto.digests import constant_time_equals, sha256_hex
from shared.logout import announce_or_defer
from shared.management.backends import Backends
from shared.models import AuditEvent, Client
from shared.oauth.params import Params
from shared.stores.outages import STORE_ERRORS
from shared.stores.redis_sessions import Session

log = logging.getLogger("latchkey.authorize")

CONFIRMATION = "logout"  # the kind of the one-time record behind a confirmation form
EXPIRED_FORM = "This sign-out form has expired or was already used. Reload the page and try again."


async def show(request: web.Request) -> web.Response:
    return await start(request, query_params(request))


async def submit(request: web.Request) -> web.Response:
    form = await form_params(request)
    if form.first("csrf") is not None:
        return await confirm(request, form.first("csrf") or "")
    if request.app[COOKIES].session_id(request) is None:
        return as_get(request, form)
    return await start(request, form)  # an RP-initiated logout sent as a form (§2)


def as_get(request: web.Request, form: Params) -> web.Response:
    """An RP-initiated logout POSTed from the relying party's site arrives without the session
    cookie (SameSite=Lax keeps it off cross-site POSTs), and answering it as is would report
    "signed out" while the browser stays signed in. The same request again as a GET (303), a
    top-level navigation that carries the cookie, reaches the session; a GET is never sent on."""
    rules.no_repeated_parameters(form)
    return redirect(with_query(request.app[PATHS].logout, {name: form.first(name) for name in rules.SINGLE_VALUED}),
                    after_post=True)


async def start(request: web.Request, params: Params) -> web.Response:
    """Validates the request; signs out at once, asks first, or (no session) only finishes."""
    logout = await validated(request, params)
    session_id, session = await current_session(request)
    if session_id is None or session is None:
        return finish(request, logout)
    if logout.hint is not None and hint_is_for(logout.hint, session):
        return await end_session(request, session_id, session, logout)
    return await ask(request, session_id, session, logout)


def hint_is_for(hint: HintClaims, session: Session) -> bool:
    """§2: no need to ask only when the ID token belongs to this session: its user and, when it
    names one, its sid (a token from an earlier session of the same user must not end this one)."""
    return hint.sub == session.user_id and hint.sid in (None, session.sid)


async def validated(request: web.Request, params: Params) -> LogoutRequest:
    """§2-§4 in order: parameters, the hint, the client, the redirect URI. A hint that fails
    verification is ignored, and with it any redirect (§4: no redirection after a failure)."""
    rules.no_repeated_parameters(params)
    hint: HintClaims | None = None
    if (raw_hint := params.first("id_token_hint")) is not None:
        try:
            hint = await request_hint(request, raw_hint)
        except BadHint as exc:
            log.info("logout with an unverifiable id_token_hint: %s", exc)
            return LogoutRequest(client=None, hint=None, redirect_uri=None, state=None)
    client_id = rules.requesting_client_id(params.first("client_id"), hint)
    client = rules.known_client(client_id, await request.app[STORES].clients.get(client_id) if client_id else None)
    redirect_uri = rules.registered_redirect(params.first("post_logout_redirect_uri"), client)
    return LogoutRequest(client=client, hint=hint, redirect_uri=redirect_uri, state=params.first("state"))


async def ask(request: web.Request, session_id: str, session: Session, logout: LogoutRequest) -> web.Response:
    """The confirmation page; what happens after it is kept server-side under a one-time token."""
    record = {"kind": CONFIRMATION, "session": sha256_hex(session_id),
              "client_id": logout.client.client_id if logout.client else None,
              "redirect_uri": logout.redirect_uri, "state": logout.state}
    token = await request.app[STORES].transactions.create(record, request.app[SETTINGS].transaction_ttl)
    return render(request, "logout.html", {
        "username": session.username, "csrf": token, "client_name": logout.client.name if logout.client else None,
    }, returns_to=logout.redirect_uri)


async def confirm(request: web.Request, token: str) -> web.Response:
    """The confirmation's POST: its token must belong to this browser's session, and is taken once.
    Only then: a POST from anywhere else (no session, another one) must not spend the user's form."""
    stores = request.app[STORES]
    session_id, session = await current_session(request)
    record = await stores.transactions.get(token) if token and session_id is not None else None
    if (record is None or record.get("kind") != CONFIRMATION or session_id is None or session is None
            or not constant_time_equals(record.get("session", ""), sha256_hex(session_id))
            or await stores.transactions.take(token) is None):  # of two racing submits, one wins
        raise CannotRedirect(EXPIRED_FORM, status=403, reason="logout_form_expired")
    client = await stores.clients.get(record["client_id"]) if record["client_id"] else None
    # Checked again: the client may have been disabled or its URIs changed while the page was open.
    usable = client is not None and not client.disabled and record["redirect_uri"] in client.post_logout_redirect_uris
    logout = LogoutRequest(client=client, hint=None, redirect_uri=record["redirect_uri"] if usable else None,
                           state=record["state"])
    return await end_session(request, session_id, session, logout)


async def end_session(request: web.Request, session_id: str, session: Session,
                      logout: LogoutRequest) -> web.Response:
    stores = request.app[STORES]
    # Queued for the token service to deliver (Back-Channel Logout §2.7): the user never waits on a
    # client. With PostgreSQL down the session still ends; the token service announces it later,
    # from the session's client list, which is then kept.
    deferred = await announce_or_defer(Backends(request.app[POOL], request.app[REDIS], request.app[SETTINGS]),
                                       user_id=session.user_id, sid=session.sid, reason="logout")
    await stores.sessions.end(session_id, "" if deferred else session.sid)
    details: dict[str, object] = {"initiated_by": "client" if logout.client else "user"}
    if deferred:
        details["announced_later"] = True
    event = AuditEvent("logout", user_id=session.user_id, client_id=logout.client.client_id if logout.client else None,
                       details=details)
    try:
        await stores.audit.record(event)
    except STORE_ERRORS as exc:  # logged already; the sign-out itself is done
        log.warning("logout not in the audit trail (%s): user=%s", type(exc).__name__, session.user_id)
    response = finish(request, logout)
    request.app[COOKIES].clear_session(response)
    return response


def finish(request: web.Request, logout: LogoutRequest) -> web.Response:
    """§3: back to the relying party (with state) only to a URI registered for it."""
    if logout.redirect_uri is not None:
        return redirect(with_query(logout.redirect_uri, {"state": logout.state}), after_post=request.method == "POST")
    return signed_out(request, logout.client)


def signed_out(request: web.Request, client: Client | None) -> web.Response:
    """Not a dead end: a way to the account page (which asks to sign in first) and, when the
    request named a client with a registered home (client_uri) but no return address, back to it."""
    return render(request, "signed_out.html", {"account_path": request.app[PATHS].account,
                                               "back_to": back_link(client)})
