"""What the user did to their own account that others must hear of: one function per event.

Each is called once, after the change is committed, from the one place that makes it:

- ``application_revoked``: the account page's "Revoke" (endpoints/account_actions.py);
- ``session_ended``: the account page's "End session" / "End all sessions", and "Not you?"
  (endpoints/switch_account.py);
- ``password_changed``: the account page's password change, which ends every other session.

They record the audit trail and tell the clients of each ended session (OIDC Back-Channel
Logout, ``shared.logout.announce``: queued here, delivered by the token service, so the page
never waits on a client). The session's refresh tokens without offline_access end with it.
"""

from __future__ import annotations

from aiohttp import web

from services.authorize.app_keys import POOL, REDIS, SETTINGS, STORES
from shared.logout import announce
from shared.management.backends import Backends
from shared.models import AuditEvent
from shared.stores.redis_sessions import Session

# A session and the clients that received codes in it (RedisSessions.clients_of).
EndedSession = tuple[Session, frozenset[str]]


async def application_revoked(request: web.Request, user_id: str, client_id: str) -> None:
    """The user revoked ``client_id``: consent gone, refresh tokens revoked, access tokens refused.

    Its audit event (consent_revoked, actor "account") was written in the revocation's own
    transaction, and the revocation itself queued the client's logout tokens (every session of
    ``user_id`` it got tokens in; ``sub`` alone when none): shared.management.consents.revoke_of_user.
    """
    del request, user_id, client_id  # nothing more to do


async def session_ended(request: web.Request, ended: EndedSession, *, initiated_by: str) -> None:
    """One session ended on the user's request (``initiated_by``: "account", "switch_account", or
    "login": another user signed in in this browser)."""
    session, clients = ended
    await _tell_clients(request, session.user_id, [ended], initiated_by)
    await request.app[STORES].audit.record(AuditEvent(
        "logout", user_id=session.user_id, details={"initiated_by": initiated_by, "clients": len(clients)}))


async def password_changed(request: web.Request, user_id: str, ended: list[EndedSession]) -> None:
    """The password changed (audited as user_password_set, actor "account", with the change);
    ``ended`` are the user's other sessions, which ended with it."""
    await _tell_clients(request, user_id, ended, "password_change")
    await request.app[STORES].audit.record(AuditEvent(
        "logout", user_id=user_id, details={"initiated_by": "password_change", "sessions": len(ended)}))


async def _tell_clients(request: web.Request, user_id: str, ended: list[EndedSession], reason: str) -> None:
    """The sessions are gone from Redis already; their client lists came back with them."""
    await announce(Backends(request.app[POOL], request.app[REDIS], request.app[SETTINGS]), user_id=user_id,
                   sids=[session.sid for session, _ in ended], reason=reason,
                   known_clients={session.sid: clients for session, clients in ended if session.sid})
