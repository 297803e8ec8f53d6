"""``announce``: the one call that tells relying parties a user's login sessions ended.

OIDC Back-Channel Logout 1.0 §2.7: each client that received tokens in an ended session gets a
logout token at its ``backchannel_logout_uri``. This side only decides who is told and queues
the events (``shared.logout.queue``); the token service signs and delivers them in the
background, so no caller ever waits on a relying party.

It also applies the session rule for refresh tokens: those whose grant began in an ended session
and lacks ``offline_access`` end with it (revoked, their live access tokens deny-listed).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from uuid import UUID

from shared.logout.queue import LogoutEvent, LogoutQueue, wants_logout
from shared.management.backends import Backends
from shared.stores.outages import STORE_ERRORS
from shared.stores.pg_clients import PgClients
from shared.stores.pg_refresh_tokens import PgRefreshTokens

log = logging.getLogger("latchkey.logout")


async def announce(backends: Backends, *, user_id: str, sids: Iterable[str], reason: str,
                   client_id: str | None = None, known_clients: Mapping[str, Iterable[str]] | None = None) -> int:
    """The login sessions ``sids`` of ``user_id`` ended (``reason``: logout, user_disabled, ...).

    Without ``client_id``: every client recorded in those sessions is told, and the sessions'
    refresh tokens without ``offline_access`` are revoked. With ``client_id`` (the user revoked
    that application): only that client is told, once per session it got tokens in, or once
    with ``sub`` alone when it got none in a live session (it may still hold a session of its
    own), unless it requires ``sid``. Call it before ending the sessions in Redis (ending one
    drops its client list), or pass the lists the ending returned as ``known_clients`` (sid ->
    client ids, as ``RedisSessions.end_of_user`` gives them). Returns how many logout tokens
    were queued.
    """
    sids = list(dict.fromkeys(s for s in sids if s))
    sessions = backends.sessions
    told: dict[str, list[str]] = {}  # client_id -> the sids it is told about
    for sid in sids:
        known = (known_clients or {}).get(sid)
        recorded = frozenset(known) if known is not None else await sessions.clients_of(sid)
        for recipient in recorded if client_id is None else recorded & {client_id}:
            told.setdefault(recipient, []).append(sid)
    if client_id is not None and client_id not in told:
        told[client_id] = [""]
    events = []
    for recipient, recipient_sids in sorted(told.items()):
        client = await PgClients(backends.db).find(recipient)
        events += [LogoutEvent(recipient, user_id, sid, reason) for sid in recipient_sids if wants_logout(client, sid)]
    queued = await LogoutQueue(backends.redis, backends.settings.redis_prefix).push(events)
    # Told (or not wanting to be): a second logout of the same session tells nobody again.
    for sid in sids:
        await sessions.forget_clients(sid, [c for c, of in told.items() if sid in of])
    if client_id is None and sids:
        revoked = await PgRefreshTokens(backends.db).revoke_session(UUID(user_id), sids)
        await backends.denylist.add_many(revoked)
    if queued:
        log.info("queued %d back-channel logouts (%s) user=%s", queued, reason, user_id)
    return queued


async def announce_or_defer(backends: Backends, *, user_id: str, sid: str, reason: str) -> bool:
    """``announce`` for one session that is ending now, which must end even while PostgreSQL is
    down (a user who signs out is signed out). Returns True when the announcement could not be
    made and was queued for the token service instead: the caller then ends the session without
    dropping its client list, which the deferred announcement reads. Redis down raises."""
    try:
        await announce(backends, user_id=user_id, sids=[sid], reason=reason)
    except STORE_ERRORS as exc:
        log.warning("session end announced later (%s): user=%s", type(exc).__name__, user_id)
        await LogoutQueue(backends.redis, backends.settings.redis_prefix).push([LogoutEvent("", user_id, sid, reason)])
        return True
    return False


async def announce_deferred(backends: Backends, event: LogoutEvent) -> None:
    """The token service's side of ``announce_or_defer``: once PostgreSQL answers again."""
    await announce(backends, user_id=event.sub, sids=[event.sid], reason=event.reason)
