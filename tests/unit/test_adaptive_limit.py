"""The adaptive concurrency limit (shared.web.adaptive_limit) and the limiter that follows it."""

import asyncio

import pytest

from shared.config import Settings
from shared.web.adaptive_limit import WINDOW_SECONDS, AdaptiveLimit
from shared.web.shedding import RequestLimiter, concurrency_bounds


class Loop:
    """A fake clock and loop-thread CPU clock: ``run(busy)`` spends one window, ``busy`` of it on CPU."""

    def __init__(self) -> None:
        self.now = self.cpu = 0.0

    def run(self, busy: float, seconds: float = WINDOW_SECONDS * 1.01) -> None:
        self.now += seconds
        self.cpu += busy * seconds


def limit(floor: int, ceiling: int, loop: Loop) -> AdaptiveLimit:
    return AdaptiveLimit(floor, ceiling, clock=lambda: loop.now, cpu=lambda: loop.cpu)


def windows(adaptive: AdaptiveLimit, loop: Loop, busy: float, count: int, *, waited: bool = True) -> list[int]:
    values = []
    for _ in range(count):
        if waited:
            adaptive.note_wait()
        loop.run(busy)
        adaptive.update(lambda: False)
        values.append(adaptive.value)
    return values


def test_it_starts_at_the_floor_and_grows_one_a_window_while_the_loop_idles_and_requests_wait():
    loop = Loop()
    adaptive = limit(2, 8, loop)
    assert adaptive.value == 2
    assert windows(adaptive, loop, busy=0.3, count=8) == [3, 4, 5, 6, 7, 8, 8, 8]


def test_a_busy_loop_shrinks_it_by_a_quarter_down_to_the_floor():
    loop = Loop()
    adaptive = limit(2, 16, loop)
    windows(adaptive, loop, busy=0.3, count=14)
    assert adaptive.value == 16
    assert windows(adaptive, loop, busy=0.97, count=7) == [12, 9, 7, 6, 5, 4, 3] and adaptive.value > 2
    assert windows(adaptive, loop, busy=0.97, count=3) == [2, 2, 2]


def test_between_idle_and_busy_it_holds():
    loop = Loop()
    adaptive = limit(2, 8, loop)
    windows(adaptive, loop, busy=0.3, count=2)
    assert windows(adaptive, loop, busy=0.8, count=5) == [4] * 5


def test_nothing_changes_while_nobody_waits_for_a_place():
    """The limit matters only when it is reached: an idle loop with free places is no reason to grow."""
    loop = Loop()
    adaptive = limit(2, 8, loop)
    assert windows(adaptive, loop, busy=0.1, count=5, waited=False) == [2] * 5
    windows(adaptive, loop, busy=0.1, count=3)
    assert windows(adaptive, loop, busy=1.0, count=5, waited=False) == [5] * 5


def test_a_window_is_judged_only_once_it_is_over():
    loop = Loop()
    adaptive = limit(2, 8, loop)
    adaptive.note_wait()
    loop.run(0.1, seconds=WINDOW_SECONDS * 0.6)
    assert not adaptive.update(lambda: True) and adaptive.value == 2
    loop.run(0.1, seconds=WINDOW_SECONDS * 0.6)
    assert adaptive.update(lambda: True) and adaptive.value == 3
    # Requests still waiting when a window ends count as a wait in the next one.
    loop.run(0.1)
    assert adaptive.update(lambda: False) and adaptive.value == 4


def test_equal_floor_and_ceiling_is_a_fixed_limit():
    loop = Loop()
    adaptive = limit(4, 4, loop)
    assert adaptive.fixed
    assert windows(adaptive, loop, busy=0.1, count=3) + windows(adaptive, loop, busy=1.0, count=3) == [4] * 6


@pytest.mark.parametrize(("floor", "ceiling"), [(0, 4), (5, 4)])
def test_bounds_are_checked(floor: int, ceiling: int):
    with pytest.raises(ValueError):
        AdaptiveLimit(floor, ceiling)


async def test_the_limiter_hands_grown_places_to_waiters():
    loop = Loop()
    limiter = RequestLimiter(limit=4, queue_size=16, wait=10.0, overload_wait=10.0, floor=1)
    limiter._limit = limit(1, 4, loop)  # the fake clocks
    assert await limiter.acquire()
    waiting = [asyncio.ensure_future(limiter.acquire()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiting)  # one place: the others wait (and that is noted)
    loop.run(busy=0.2)
    limiter.release()  # judges the window: an idle loop with waiters grows the limit to 2 ...
    await asyncio.sleep(0)
    assert limiter.limit == 2
    assert sorted(w.done() and w.result() for w in waiting) == [False, True, True]  # ... both places go to waiters


async def test_a_shrunk_limit_frees_no_place_until_the_work_in_progress_is_below_it():
    loop = Loop()
    limiter = RequestLimiter(limit=4, queue_size=16, wait=10.0, overload_wait=10.0, floor=1)
    limiter._limit = limit(1, 4, loop)
    limiter._limit.value = 4
    for _ in range(4):
        assert await limiter.acquire()
    waiter = asyncio.ensure_future(limiter.acquire())
    await asyncio.sleep(0)
    loop.run(busy=1.0)  # a busy window with a wait: 4 -> 3
    limiter.release()  # 3 in progress, limit 3: no place for the waiter
    await asyncio.sleep(0)
    assert limiter.limit == 3 and not waiter.done()
    limiter.release()  # 2 in progress
    await asyncio.sleep(0)
    assert waiter.done() and waiter.result() is True


@pytest.mark.parametrize(("env", "default_floor", "bounds"), [
    ({}, 2, (2, 8)),  # the token service's defaults: adaptive from 2 to 8
    ({}, None, (8, 8)),  # no default floor: a fixed limit (authorize, resource, admin)
    ({"LATCHKEY_MAX_CONCURRENT_REQUESTS": "4"}, 2, (2, 4)),
    ({"LATCHKEY_MAX_CONCURRENT_REQUESTS": "1"}, 2, (1, 1)),  # a maximum below the default floor fixes it
    ({"LATCHKEY_MIN_CONCURRENT_REQUESTS": "3"}, None, (3, 8)),
    ({"LATCHKEY_MIN_CONCURRENT_REQUESTS": "12"}, 2, (12, 12)),  # a floor above the default ceiling raises it
    ({"LATCHKEY_MIN_CONCURRENT_REQUESTS": "5", "LATCHKEY_MAX_CONCURRENT_REQUESTS": "5"}, 2, (5, 5)),
])
def test_the_bounds_come_from_the_settings_or_the_service_defaults(env, default_floor, bounds):
    settings = Settings.from_env({"DATABASE_URL": "postgresql://db/lk", "REDIS_URL": "redis://cache:6379/0", **env})
    assert concurrency_bounds(settings, 8, default_floor) == bounds


def test_a_wait_noted_before_a_quiet_gap_is_stale_and_judges_nothing():
    loop = Loop()
    adaptive = limit(2, 8, loop)
    adaptive.note_wait()
    loop.run(0.0, seconds=5.0)  # no request for 5 s, then one arrives
    assert not adaptive.update(lambda: False) and adaptive.value == 2
    assert windows(adaptive, loop, busy=0.1, count=1) == [3]  # fresh windows are judged again
