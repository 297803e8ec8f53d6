"""Stopping background tasks at shutdown, without hanging on one that missed a cancel.

The services' tasks and this package's own (the denylist batcher, the JWKS fetch) stop this way,
so an API using the verifier alone cannot hang its shutdown either.

A cancel can be lost: one that lands while a library turns an expiring timeout or a dead Redis
connection into its own exception may be swallowed, and the task goes on to its next await
(seen once in a few dozen runs: the back-channel logout reader, after Redis restarted, kept
the token service's shutdown waiting forever). So a task still running after ``patience``
is cancelled again, a bounded number of times, instead of awaited without end.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger("latchkey.tasks")

ATTEMPTS = 5


async def stop_tasks(*tasks: asyncio.Task[Any], patience: float = 1.0) -> None:
    """Cancels ``tasks`` and waits until they end; raises what one of them failed with
    (a task that ends by being cancelled is the normal case)."""
    pending = {task for task in tasks if not task.done()}
    for _ in range(ATTEMPTS):
        if not pending:
            break
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=patience)
    for task in pending:
        log.error("background task %s ignored %d cancels; shutdown goes on without it", task.get_name(), ATTEMPTS)
    for task in tasks:
        if task.done() and not task.cancelled() and (failure := task.exception()) is not None:
            raise failure
