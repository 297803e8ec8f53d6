"""The batched jti denylist check: concurrent checks share one lookup, each gets its own answer,
and a failing lookup fails every waiter (closed, never open)."""

import asyncio

import pytest

from shared.bearer.revocation import BatchedDenylistCheck


class CountingDenylist:
    def __init__(self, revoked=(), fail=False):
        self.revoked = set(revoked)
        self.fail = fail
        self.calls: list[list[str]] = []

    async def contains_many(self, jtis):
        self.calls.append(list(jtis))
        await asyncio.sleep(0.001)  # a round trip
        if self.fail:
            raise ConnectionError("redis is down")
        return [jti in self.revoked for jti in jtis]


async def test_concurrent_checks_share_one_lookup_and_get_their_own_answers():
    denylist = CountingDenylist(revoked={"j3", "j7"})
    check = BatchedDenylistCheck(denylist)
    answers = await asyncio.gather(*(check.contains(f"j{i}") for i in range(10)))
    assert answers == [i in (3, 7) for i in range(10)]
    assert len(denylist.calls) == 1 and len(denylist.calls[0]) == 10


async def test_checks_arriving_during_a_lookup_go_in_the_next_one():
    denylist = CountingDenylist(revoked={"late"})
    check = BatchedDenylistCheck(denylist)
    first = asyncio.ensure_future(check.contains("early"))
    await asyncio.sleep(0.0005)  # the first lookup is in flight
    second = asyncio.ensure_future(check.contains("late"))
    assert (await first, await second) == (False, True)
    assert denylist.calls == [["early"], ["late"]]


async def test_batches_are_bounded():
    denylist = CountingDenylist()
    check = BatchedDenylistCheck(denylist, max_batch=4)
    await asyncio.gather(*(check.contains(f"j{i}") for i in range(10)))
    assert [len(c) for c in denylist.calls] == [4, 4, 2]


async def test_a_failed_lookup_fails_every_waiter_and_the_next_batch_retries():
    denylist = CountingDenylist(fail=True)
    check = BatchedDenylistCheck(denylist)
    results = await asyncio.gather(*(check.contains(f"j{i}") for i in range(3)), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    denylist.fail = False
    assert await check.contains("j1") is False


async def test_a_cancelled_waiter_does_not_break_the_batch():
    denylist = CountingDenylist(revoked={"b"})
    check = BatchedDenylistCheck(denylist)
    a, b = asyncio.ensure_future(check.contains("a")), asyncio.ensure_future(check.contains("b"))
    await asyncio.sleep(0)
    a.cancel()
    assert await b is True
    with pytest.raises(asyncio.CancelledError):
        await a
