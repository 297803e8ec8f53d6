"""Finishes revocations that could not reach Redis (RFC 7009 §2.1, RFC 9700 §4.14.2).

A grant's revocation commits in PostgreSQL together with the denylist entries it owes
(shared.stores.pg_pending_revocations); a management operation (a user or client disabled or
deleted, a consent revoked) together with its cut-off (shared.stores.pg_pending_cutoffs). When
Redis was down, or the process died before writing them, this task writes them once Redis
answers again, ends the login sessions a cut-off ends and tells their relying parties
(shared.management.cutoffs), and deletes the rows; expired ones are dropped. A cut-off is
claimed before it is worked on (a lease, shared.stores.pg_pending_cutoffs), so the task never
works on one that its operation, or another replica, is still carrying out. Every token
replica runs it (a row may have been left by another replica): when there is nothing to do it
looks once per LATCHKEY_REVOCATION_RETRY_SECONDS, two small queries.
After a failure it tries again sooner, backing off exponentially with jitter up to that
interval, so an entry reaches Redis at most about one interval after Redis is back.

A row is deleted only once its write is confirmed as LATCHKEY_REVOCATION_REPLICAS asks (Redis
WAIT). Until then it is written again every interval: if the primary that held it alone dies,
the promoted replica gets it at most one interval after the services reach it. Each pass goes
through the rows once (in jti order), so rows that stay unconfirmed do not keep it busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.models import Cutoff
from shared.stores.outages import STORE_ERRORS

log = logging.getLogger("latchkey.token.revocations")

# Rows written per round trip; a burst of revocations is worked through batch by batch.
BATCH = 500
# The first retry after a failure: soon, since Redis often comes back within a second.
FIRST_RETRY_SECONDS = 0.25


class Pending(Protocol):
    async def due(self, limit: int, after: str = "") -> list[tuple[str, datetime]]: ...
    async def written(self, jtis: list[str]) -> None: ...


class PendingCutoffs(Protocol):
    async def claim(self, limit: int) -> list[Cutoff]: ...
    async def written(self, cutoffs: Sequence[Cutoff]) -> None: ...
    async def release(self, cutoffs: Sequence[Cutoff]) -> None: ...


class Denylist(Protocol):
    async def add_many(self, entries: list[tuple[str, datetime]]) -> bool: ...
    async def cut_off(self, cutoff: Cutoff) -> bool: ...


@dataclass(frozen=True)
class Pass:
    written: int  # entries written to the denylist
    unconfirmed: int  # of those, not yet confirmed by the replicas: kept for the next pass


EndSessions = Callable[[Cutoff], Awaitable[None]]


async def write_pending(pending: Pending, denylist: Denylist, cutoffs: PendingCutoffs,
                        end_sessions: EndSessions) -> Pass:
    """Writes every pending entry and claimed cut-off to Redis once, ends the sessions of each
    confirmed cut-off, and forgets what is done, each cut-off as soon as it is. A cut-off's
    sessions end only once its write is confirmed (one written again every pass would otherwise
    be announced again every pass); what is not done is given back for the next pass."""
    written = unconfirmed = 0
    after = ""
    while batch := await pending.due(BATCH, after):
        if await denylist.add_many(batch):
            await pending.written([jti for jti, _ in batch])
        else:
            unconfirmed += len(batch)
        written += len(batch)
        after = batch[-1][0]
    # Few (one per operation that met a Redis failure): one batch a pass, the rest the next.
    claimed = await cutoffs.claim(BATCH)
    for done, cutoff in enumerate(claimed):
        try:
            if await denylist.cut_off(cutoff):
                await end_sessions(cutoff)
                await cutoffs.written([cutoff])
            else:
                unconfirmed += 1
                await cutoffs.release([cutoff])
        except Exception:
            with contextlib.suppress(*STORE_ERRORS):  # else the leases run out by themselves
                await cutoffs.release(claimed[done:])
            raise
        written += 1
    return Pass(written, unconfirmed)


def retry_delay(failures: int, interval: float) -> float:
    """Exponential with full jitter, capped at the interval: replicas do not retry in step."""
    return random.uniform(0, min(interval, FIRST_RETRY_SECONDS * 2 ** (failures - 1))) if failures else interval


async def complete_pending_revocations(pending: Pending, cutoffs: PendingCutoffs, denylist: Denylist,
                                       end_sessions: EndSessions, interval: float) -> None:
    failures = 0
    unconfirmed = 0
    while True:
        try:
            done = await write_pending(pending, denylist, cutoffs, end_sessions)
            if done.written > done.unconfirmed:
                log.info("wrote %d pending revocations to the denylist", done.written - done.unconfirmed)
            if done.unconfirmed and not unconfirmed:
                log.warning("%d revocations written but not confirmed by the Redis replicas; "
                            "writing them again every %s s", done.unconfirmed, interval)
            unconfirmed = done.unconfirmed
            failures = 0
        except STORE_ERRORS as exc:
            failures += 1
            if failures == 1:
                log.warning("pending revocations wait for the stores: %s", type(exc).__name__)
        except Exception:
            failures += 1
            log.exception("could not write pending revocations")
        await asyncio.sleep(retry_delay(failures, interval))
