"""The request limiter (shared.web.shedding): bursts are absorbed, a standing queue is shed fast."""

import asyncio
import time

from shared.web.shedding import RequestLimiter


async def _hold(limiter: RequestLimiter, seconds: float) -> None:
    assert await limiter.acquire()
    await asyncio.sleep(seconds)
    limiter.release()


async def test_a_burst_waits_for_places_instead_of_being_refused():
    # A long patience: on a starved CI machine the event loop itself may stall for a while.
    limiter = RequestLimiter(limit=2, queue_size=16, wait=10.0, overload_wait=0.001)

    async def one() -> bool:
        if not await limiter.acquire():
            return False
        await asyncio.sleep(0.005)
        limiter.release()
        return True

    results = await asyncio.gather(*(one() for _ in range(12)))
    assert all(results)


async def test_a_full_queue_is_refused_at_once():
    limiter = RequestLimiter(limit=1, queue_size=1, wait=1.0, overload_wait=1.0)
    holder = asyncio.create_task(_hold(limiter, 0.2))
    await asyncio.sleep(0)
    queued = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    started = time.monotonic()
    assert await limiter.acquire() is False
    assert time.monotonic() - started < 0.05
    assert await queued is True
    limiter.release()
    await holder


async def test_a_standing_queue_sheds_newcomers_after_the_short_wait():
    limiter = RequestLimiter(limit=1, queue_size=16, wait=10.0, overload_wait=0.01)

    async def slow() -> None:  # each holds its place 50 ms: every waiter waits far past the target
        if await limiter.acquire():
            await asyncio.sleep(0.05)
            limiter.release()

    load = [asyncio.create_task(slow()) for _ in range(6)]
    await asyncio.sleep(0.2)  # waits over the target for longer than the CoDel interval
    started = time.monotonic()
    assert await limiter.acquire() is False
    assert time.monotonic() - started < 2.0  # the target (10 ms), not the burst patience (10 s)
    await asyncio.gather(*load)
    assert await limiter.acquire() is True  # drained: places are given again at once
    limiter.release()
