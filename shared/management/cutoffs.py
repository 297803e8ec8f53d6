"""A management cut-off carried out: the access tokens stop working, then the login sessions it
ends end and their relying parties are told (OIDC Back-Channel Logout 1.0 §2.7).

A user disabled or deleted ends every session of the user and tells every client that got tokens
in one; a consent revoked tells that client only and ends no session; a client disabled or
deleted ends no session (its users' sessions are their own). Only sessions begun by the cut-off's
moment count: an enable that came first moves that moment back (``PgPendingCutoffs.clamp``), and a
session begun after it is not the disable's to end.

The operation does all of it after its commit, holding the lease its transaction took on the
record (pending_cutoffs), and only then forgets the record. When Redis failed it gives the lease
back, and the token service claims the record and does it all once Redis answers
(services/token/pending_revocations.py), so a deleted user's relying parties are still told,
with nothing to run again (a deleted record cannot be deleted twice). One holder at a time: the
task never writes a cut-off while its operation is still at work. A holder that failed midway
and is followed by another does not tell a client of a session twice (``announce`` forgets the
clients it told); only a revoked consent's logout token without a session may go out again.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from shared.logout.announce import announce
from shared.management.backends import Backends
from shared.models import Cutoff
from shared.stores.outages import STORE_ERRORS
from shared.stores.pg_pending_cutoffs import PgPendingCutoffs


async def carry_out(backends: Backends, jtis: list[tuple[str, datetime]], cutoff: Cutoff) -> None:
    """After the commit: the recorded access tokens and the cut-off to Redis first (the tokens
    stop working), then the sessions, then the record is forgotten. A store failure raises,
    leaving the record, its lease given back, to the token service."""
    pending = PgPendingCutoffs(backends.db)
    try:
        await backends.revoke_access(jtis, cutoff)
        await end_sessions(backends, cutoff)
    except Exception:
        with contextlib.suppress(*STORE_ERRORS):  # else the lease runs out by itself
            await pending.release([cutoff])
        raise
    await pending.written([cutoff])


async def end_sessions(backends: Backends, cutoff: Cutoff) -> None:
    """The login sessions the cut-off ends, announced to their relying parties first (ending a
    session drops its list of clients to tell)."""
    if cutoff.subject is None:
        return
    sessions = backends.sessions
    listed = [(digest, s) for digest, s in await sessions.listed_of_user(cutoff.subject)
              if s.auth_time * 1000 <= cutoff.before_ms]
    sids = [s.sid for _, s in listed]
    if cutoff.client_id is not None:
        await announce(backends, user_id=cutoff.subject, sids=sids, client_id=cutoff.client_id,
                       reason=cutoff.reason)
        return
    await announce(backends, user_id=cutoff.subject, sids=sids, reason=cutoff.reason)
    for digest, _ in listed:
        await sessions.end_of_user(cutoff.subject, digest)
