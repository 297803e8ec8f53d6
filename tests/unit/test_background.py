"""Stopping background tasks (shared.background.stop): a task that swallows a cancel (as a
library may, when the cancel lands on a failing connection) is cancelled again, so shutdown
ends instead of awaiting it forever; a task's own failure still reaches the caller."""

import asyncio
import time

import pytest

from shared import background


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
    await background.stop(task, patience=0.05)
    assert task.cancelled() and cancels == [1]
    assert time.monotonic() - started < 1


async def test_well_behaved_tasks_stop_at_the_first_cancel():
    tasks = [asyncio.create_task(asyncio.sleep(3600)) for _ in range(3)]
    await asyncio.sleep(0)
    started = time.monotonic()
    await background.stop(*tasks, patience=5)
    assert all(t.cancelled() for t in tasks) and time.monotonic() - started < 1


async def test_a_task_that_failed_raises_its_error():
    async def fails() -> None:
        raise RuntimeError("broken")

    task = asyncio.create_task(fails())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="broken"):
        await background.stop(task)


async def test_a_task_that_never_stops_is_left_after_the_bounded_attempts(caplog):
    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                pass

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await background.stop(task, patience=0.01)
    assert not task.done() and "ignored 5 cancels" in caplog.text
    task.get_coro().close()
