"""POST /login/switch?tx=...: "Not you?" on the login and consent pages.

The authorization request starts over, as with prompt=login (OIDC Core §3.1.2.1): this browser's
session ends and the login page shows for the same request, in a new transaction. The form echoes
the transaction's CSRF token; the transaction is taken once, so a replayed form finds it gone.
The only place it sends the browser is our own login page.
"""

from __future__ import annotations

from aiohttp import web

from services.authorize import account_events, flow
from services.authorize.app_keys import COOKIES, STORES
from services.authorize.core.errors import CannotRedirect
from services.authorize.inputs import form_params
from services.authorize.sessions import EXPIRED, check_csrf, load_transaction_and_session


async def submit(request: web.Request) -> web.Response:
    tx_id, tx, session = await load_transaction_and_session(request)
    check_csrf(await form_params(request), tx.csrf)
    stores, cookies = request.app[STORES], request.app[COOKIES]
    if await stores.transactions.take(tx_id) is None:
        raise CannotRedirect(EXPIRED, reason="transaction_expired")
    response = await flow.restart(request, tx)
    session_id = cookies.session_id(request)
    if session_id is not None and session is not None:
        ended = await stores.sessions.end_of_user(session.user_id, stores.sessions.digest(session_id))
        if ended is not None:
            await account_events.session_ended(request, ended, initiated_by="switch_account")
        cookies.clear_session(response)
    return response
