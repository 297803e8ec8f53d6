"""Batched: one call for what arrives together, nothing sent for a waiter that gave up, and no
waiter left hanging when the batcher stops."""

from __future__ import annotations

import asyncio

import pytest

from shared.bearer.batching import Batched


async def test_what_arrives_together_goes_in_one_call_and_each_gets_its_answer():
    calls: list[list[int]] = []

    async def many(items: list[int]) -> list[int]:
        calls.append(items)
        return [item * 10 for item in items]

    batched: Batched[int, int] = Batched(many)
    assert await asyncio.gather(*(batched.submit(i) for i in range(5))) == [0, 10, 20, 30, 40]
    assert calls == [[0, 1, 2, 3, 4]]


async def test_a_waiter_that_gave_up_before_its_batch_left_is_not_sent():
    calls: list[list[str]] = []
    release = asyncio.Event()

    async def many(items: list[str]) -> list[str]:
        calls.append(items)
        await release.wait()
        return items

    batched: Batched[str, str] = Batched(many)
    first = asyncio.create_task(batched.submit("first"))
    await asyncio.sleep(0.01)  # "first" is in flight; the next two queue behind it
    gave_up = asyncio.create_task(batched.submit("gave up"))
    kept = asyncio.create_task(batched.submit("kept"))
    await asyncio.sleep(0.01)
    gave_up.cancel()
    release.set()
    assert (await first, await kept) == ("first", "kept")
    assert calls == [["first"], ["kept"]]


async def test_stopping_mid_batch_answers_its_waiters_with_a_store_error():
    async def many(items: list[str]) -> list[str]:
        await asyncio.sleep(3600)
        return items

    batched: Batched[str, str] = Batched(many)
    waiting = asyncio.create_task(batched.submit("in flight"))
    await asyncio.sleep(0.01)
    await batched.close()
    await asyncio.wait_for(asyncio.wait([waiting]), timeout=1)  # hung forever before
    with pytest.raises(ConnectionError):  # a store error: the service answers 503, not a dropped connection
        await waiting
