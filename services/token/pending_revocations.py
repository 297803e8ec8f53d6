"""Finishes revocations that could not reach Redis (RFC 7009 §2.1, RFC 9700 §4.14.2).

A grant's revocation commits in PostgreSQL together with the denylist entries it owes
(shared.stores.pg_pending_revocations). When Redis was down, or the process died before
writing them, this task writes them once Redis answers again and deletes the rows; expired ones
are dropped. Every token replica runs it (a row may have been left by another replica): when
there is nothing to do it looks once per LATCHKEY_REVOCATION_RETRY_SECONDS, one small query.
After a failure it tries again sooner, backing off exponentially with jitter up to that
interval, so an entry reaches Redis at most about one interval after Redis is back.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime
from typing import Protocol

from shared.stores.outages import STORE_ERRORS

log = logging.getLogger("latchkey.token.revocations")

# Rows written per round trip; a burst of revocations is worked through batch by batch.
BATCH = 500
# The first retry after a failure: soon, since Redis often comes back within a second.
FIRST_RETRY_SECONDS = 0.25


class Pending(Protocol):
    async def due(self, limit: int) -> list[tuple[str, datetime]]: ...
    async def written(self, jtis: list[str]) -> None: ...


class Denylist(Protocol):
    async def add_many(self, entries: list[tuple[str, datetime]]) -> None: ...


async def write_pending(pending: Pending, denylist: Denylist) -> int:
    """Writes every pending entry to the denylist, then forgets it; returns how many."""
    written = 0
    while batch := await pending.due(BATCH):
        await denylist.add_many(batch)
        await pending.written([jti for jti, _ in batch])
        written += len(batch)
    return written


def retry_delay(failures: int, interval: float) -> float:
    """Exponential with full jitter, capped at the interval: replicas do not retry in step."""
    return random.uniform(0, min(interval, FIRST_RETRY_SECONDS * 2 ** (failures - 1))) if failures else interval


async def complete_pending_revocations(pending: Pending, denylist: Denylist, interval: float) -> None:
    failures = 0
    while True:
        try:
            if written := await write_pending(pending, denylist):
                log.info("wrote %d pending revocations to the denylist", written)
            failures = 0
        except STORE_ERRORS as exc:
            failures += 1
            if failures == 1:
                log.warning("pending revocations wait for the stores: %s", type(exc).__name__)
        except Exception:
            failures += 1
            log.exception("could not write pending revocations")
        await asyncio.sleep(retry_delay(failures, interval))
