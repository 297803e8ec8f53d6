"""The jti denylist check (RFC 7009 §2.2 leaves it to the resource server), batched.

Requests that reach the check in the same moment share one Redis round trip (MGET): each
request still sees the denylist as it is after it arrived, but a busy API pays for one
command per batch instead of one per request. Idle, a batch is a single request.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol


class BatchDenylist(Protocol):
    async def contains_many(self, jtis: list[str]) -> list[bool]: ...


class BatchedDenylistCheck:
    def __init__(self, denylist: BatchDenylist, max_batch: int = 256) -> None:
        self._denylist = denylist
        self._max_batch = max_batch
        self._waiting: list[tuple[str, asyncio.Future[bool]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def contains(self, jti: str) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((jti, future))
        if self._runner is None:
            self._runner = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        """Sends what is waiting, one batch at a time, until nothing is; what arrives while a
        batch is in flight goes out in the next one."""
        try:
            await asyncio.sleep(0)  # let the requests already being handled join the first batch
            while self._waiting:
                batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch:]
                try:
                    answers = await self._denylist.contains_many([jti for jti, _ in batch])
                except Exception as exc:  # every waiter fails closed with the same error
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), revoked in zip(batch, answers):
                    if not future.done():
                        future.set_result(revoked)
        finally:
            self._runner = None

    async def close(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        for _, future in self._waiting:
            future.cancel()
        self._waiting = []
