"""Requests that need the same store in the same moment share one round trip.

``Batched(many)``: each ``submit(item)`` waits for its own answer, and everything submitted while
the event loop runs one pass goes to ``many`` in one call (one command to Redis); what arrives
while a call is in flight goes out in the next. Idle, a batch is a single item, so a lone
request pays no extra wait; busy, the store's per-command cost is paid once per batch. Used by
the bearer verifier's revocation check and the token service's rate limits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from .tasks import stop_tasks

T = TypeVar("T")
R = TypeVar("R")


class Batched(Generic[T, R]):
    def __init__(self, many: Callable[[list[T]], Awaitable[list[R]]], max_batch: int = 256) -> None:
        self._many = many
        self._max_batch = max_batch
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._runner is None:
            self._runner = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        """Sends what is waiting, one batch at a time, until nothing is."""
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            await asyncio.sleep(0)  # let the requests already being handled join the first batch
            while self._waiting:
                taken, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch:]
                # A waiter that gave up (its request timed out or was cancelled) is not sent:
                # nobody would read the answer, and a write nobody waits for should not happen.
                batch = [(item, future) for item, future in taken if not future.done()]
                if not batch:
                    continue
                try:
                    answers = await self._many([item for item, _ in batch])
                except Exception as exc:  # every waiter gets the same error (the caller decides open or closed)
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), answer in zip(batch, answers, strict=True):
                    if not future.done():
                        future.set_result(answer)
        finally:
            for _, future in batch:  # stopped mid-batch (close): its waiters get a store error
                if not future.done():
                    future.set_exception(ConnectionError("stopped while the request was in flight"))
            self._runner = None

    async def close(self) -> None:
        if self._runner is not None:
            await stop_tasks(self._runner)
        for _, future in self._waiting:
            future.cancel()
        self._waiting = []
