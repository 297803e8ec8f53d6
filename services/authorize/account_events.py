"""What the user did to their own account that others must hear of: one function per event.

Each is called once, after the change is committed, from the one place that makes it:

- ``application_revoked``: the account page's "Revoke" (endpoints/account_actions.py);
- ``session_ended``: the account page's "End session" / "End all sessions", and "Not you?"
  (endpoints/switch_account.py);
- ``password_changed``: the account page's password change, which ends every other session.

They record the audit trail now. OIDC Back-Channel Logout (issue 12 §3) goes here too: one call
per function telling the listed clients that the user's sessions with them ended.
"""

from __future__ import annotations

from aiohttp import web

from services.authorize.app_keys import STORES
from shared.models import AuditEvent
from shared.stores.redis_sessions import Session

# A session and the clients that received codes in it (RedisSessions.clients_of).
EndedSession = tuple[Session, frozenset[str]]


async def application_revoked(request: web.Request, user_id: str, client_id: str) -> None:
    """The user revoked ``client_id``: consent gone, refresh tokens revoked, access tokens refused.

    Its audit event (consent_revoked, actor "account") was written in the revocation's own
    transaction (shared.management.consents.revoke_of_user), so nothing more is recorded here.
    Back-channel: every session of ``user_id`` at ``client_id`` ends (a logout token with ``sub``).
    """
    del request, user_id, client_id  # nothing else to do until back-channel logout is wired in


async def session_ended(request: web.Request, ended: EndedSession, *, initiated_by: str) -> None:
    """One session ended on the user's request (``initiated_by``: "account" or "switch_account")."""
    session, clients = ended
    await request.app[STORES].audit.record(AuditEvent(
        "logout", user_id=session.user_id, details={"initiated_by": initiated_by, "clients": len(clients)}))


async def password_changed(request: web.Request, user_id: str, ended: list[EndedSession]) -> None:
    """The password changed (audited as user_password_set, actor "account", with the change);
    ``ended`` are the user's other sessions, which ended with it."""
    await request.app[STORES].audit.record(AuditEvent(
        "logout", user_id=user_id, details={"initiated_by": "password_change", "sessions": len(ended)}))
