"""Stopping background tasks (shared.bearer.tasks.stop_tasks): a task that swallows a cancel (as a
library may, when the cancel lands on a failing connection) is cancelled again, so shutdown
ends instead of awaiting it forever; a task's own failure still reaches the caller."""

import asyncio
import contextlib
import time

import pytest

from shared.bearer.batching import Batched
from shared.bearer.jwks import FetchedJwks, JwksCache
from shared.bearer.tasks import stop_tasks


async def swallows_first_cancel(cancels: list[int]) -> None:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        cancels.append(1)  # lost, as a library turning it into its own error would lose it
    await asyncio.sleep(3600)  # goes on to its next wait


async def test_a_task_that_swallowed_a_cancel_is_cancelled_again():
    cancels: list[int] = []
    task = asyncio.create_task(swallows_first_cancel(cancels))
    await asyncio.sleep(0)
    started = time.monotonic()
    await stop_tasks(task, patience=0.05)
    assert task.cancelled() and cancels == [1]
    assert time.monotonic() - started < 1


async def test_well_behaved_tasks_stop_at_the_first_cancel():
    tasks = [asyncio.create_task(asyncio.sleep(3600)) for _ in range(3)]
    await asyncio.sleep(0)
    started = time.monotonic()
    await stop_tasks(*tasks, patience=5)
    assert all(t.cancelled() for t in tasks) and time.monotonic() - started < 1


async def test_a_task_that_failed_raises_its_error():
    async def fails() -> None:
        raise RuntimeError("broken")

    task = asyncio.create_task(fails())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="broken"):
        await stop_tasks(task)


async def test_a_task_that_never_stops_is_left_after_the_bounded_attempts(caplog):
    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                pass

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await stop_tasks(task, patience=0.01)
    assert not task.done() and "ignored 5 cancels" in caplog.text
    task.get_coro().close()


async def test_the_bearer_packages_batcher_stops_although_its_store_swallowed_a_cancel():
    calls: list[list[str]] = []

    async def many(items: list[str]) -> list[bool]:
        calls.append(items)
        await swallows_first_cancel([])  # a store call that lost the cancel as its connection failed
        return [False] * len(items)

    batched: Batched[str, bool] = Batched(many)
    waiting = asyncio.create_task(batched.submit("jti-1"))
    await asyncio.sleep(0.01)
    started = time.monotonic()
    await asyncio.wait_for(batched.close(), timeout=5)  # awaited without end before
    assert calls == [["jti-1"]] and time.monotonic() - started < 3
    waiting.cancel()


async def test_the_bearer_packages_jwks_fetch_stops_although_it_swallowed_a_cancel():
    class HangingFetcher:
        async def fetch(self) -> FetchedJwks:
            await swallows_first_cancel([])
            raise AssertionError("never answers")

    cache = JwksCache(HangingFetcher(), algorithms=frozenset({"RS256"}), cooldown=30, default_max_age=300,
                      max_age_cap=3600)
    priming = asyncio.create_task(cache.prime())
    await asyncio.sleep(0.01)
    assert cache.fetches == 1
    started = time.monotonic()
    await asyncio.wait_for(cache.close(), timeout=5)
    assert time.monotonic() - started < 3
    with contextlib.suppress(asyncio.CancelledError):
        await priming
