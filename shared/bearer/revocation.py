"""The jti denylist check (RFC 7009 §2.2 leaves it to the resource server), batched.

Requests that reach the check in the same moment share one Redis round trip (MGET): each
request still sees the denylist as it is after it arrived, but a busy API pays for one
command per batch instead of one per request. Idle, a batch is a single request.

Redis is optional (``latchkey-bearer[redis]``): nothing here imports it unless it is installed.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis

try:
    from redis.exceptions import RedisError
except ImportError:  # without the redis extra no Redis denylist can be configured
    DENYLIST_ERRORS: tuple[type[Exception], ...] = (OSError,)
else:
    DENYLIST_ERRORS = (RedisError, OSError)


def revoked_jti_key(prefix: str, jti: str) -> str:
    """The Redis key the token service sets for a revoked jti (``shared.stores.redis_denylist``)."""
    return f"{prefix}revoked-jti:{jti}"


class BatchDenylist(Protocol):
    async def contains_many(self, jtis: list[str]) -> list[bool]: ...


class RedisDenylistReader:
    """The verifier's read side of the denylist the token service writes."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def contains_many(self, jtis: list[str]) -> list[bool]:
        """One round trip (MGET) for many ids."""
        values = await self._redis.mget([revoked_jti_key(self._prefix, jti) for jti in jtis])
        return [value is not None for value in values]


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
                for (_, future), revoked in zip(batch, answers, strict=True):
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
