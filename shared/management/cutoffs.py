"""A management cut-off carried out: the access tokens stop working, then the login sessions it
ends end and their relying parties are told (OIDC Back-Channel Logout 1.0 §2.7).

A user disabled or deleted ends every session of the user and tells every client that got tokens
in one; a consent revoked tells that client only and ends no session; a client disabled or
deleted ends no session (its users' sessions are their own). The operation does all of it after
its commit, and only then forgets the record it made in its transaction (pending_cutoffs). When
Redis failed it could do none of it: the token service does it all once Redis answers
(services/token/pending_revocations.py), so a deleted user's relying parties are still told,
with nothing to run again (a deleted record cannot be deleted twice). Doing it twice tells
nobody twice: ``announce`` forgets the clients it told, and an ended session is gone.
"""

from __future__ import annotations

from datetime import datetime

from shared.logout.announce import announce
from shared.management.backends import Backends
from shared.models import Cutoff
from shared.stores.pg_pending_cutoffs import PgPendingCutoffs


async def carry_out(backends: Backends, jtis: list[tuple[str, datetime]], cutoff: Cutoff) -> None:
    """After the commit: the recorded access tokens and the cut-off to Redis first (the tokens
    stop working), then the sessions, then the record is forgotten. A store failure raises and
    leaves the record for the token service."""
    await backends.revoke_access(jtis, cutoff)
    await end_sessions(backends, cutoff)
    await PgPendingCutoffs(backends.db).written([cutoff])


async def end_sessions(backends: Backends, cutoff: Cutoff) -> None:
    """The login sessions the cut-off ends, announced to their relying parties first (ending a
    session drops its list of clients to tell)."""
    if cutoff.subject is None:
        return
    sids = [s.sid for s in await backends.sessions.of_user(cutoff.subject)]
    if cutoff.client_id is not None:
        await announce(backends, user_id=cutoff.subject, sids=sids, client_id=cutoff.client_id,
                       reason=cutoff.reason)
        return
    await announce(backends, user_id=cutoff.subject, sids=sids, reason=cutoff.reason)
    await backends.sessions.end_all_of_user(cutoff.subject)
