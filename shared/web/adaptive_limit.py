"""How many requests a service works on at once, adapted to how busy its event loop is.

One event loop does all of a process's request work. While it has idle CPU, more requests at once
overlap their waits on PostgreSQL and Redis and add throughput; once it is busy, one request more
adds nothing but makes every request in progress slower (four exchanges at once each take four
times as long). The right limit therefore depends on where the stores are: two on one machine
with them, more with each millisecond of network between.

So the limit adapts (AIMD, as TCP's congestion window), judged once per window (CoDel's 100 ms
interval) and only when requests had to wait for a place, the one time the limit matters: when
the loop's thread was busy at least ``BUSY`` of the window, the limit shrinks by a quarter (to no
less than the floor); when it was busy less than ``IDLE``, it grows by one (to no more than the
ceiling). Busy is the loop thread's own CPU time (``time.thread_time``), so work on other threads
(password hashing, the access-log flush) does not count. It starts at the floor: a burst that
needs more places gets them within a few windows, while the queue absorbs it.

Busy counts all of the loop's work, answering the requests it sheds included: in a flood the
loop is full either way, so more places would not serve more. A store that stalls looks like an
idle loop with requests waiting, so the limit climbs to its ceiling, which bounds it. A window
judged long after it began (a gap with no request) is dropped: its wait is stale.

With floor == ceiling the limit is fixed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

WINDOW_SECONDS = 0.1
BUSY = 0.9  # the loop was this busy: more requests at once only add latency
IDLE = 0.75  # below this the loop can take on more while others wait for replies


class AdaptiveLimit:
    def __init__(self, floor: int, ceiling: int, *, clock: Callable[[], float] = time.monotonic,
                 cpu: Callable[[], float] = time.thread_time) -> None:
        if not 1 <= floor <= ceiling:
            raise ValueError(f"need 1 <= floor ({floor}) <= ceiling ({ceiling})")
        self.floor, self.ceiling = floor, ceiling
        self.value = floor
        self._clock, self._cpu = clock, cpu
        self._started, self._cpu_at_start = clock(), cpu()
        self._waited = False

    @property
    def fixed(self) -> bool:
        return self.floor == self.ceiling

    def note_wait(self) -> None:
        """A request found every place taken during this window."""
        self._waited = True

    def update(self, waiting: Callable[[], bool]) -> bool:
        """Judges the window if it is over; True when the limit grew (places to hand out).
        ``waiting()``: requests wait now, so the next window starts with a wait noted."""
        if self.fixed:
            return False
        now = self._clock()
        elapsed = now - self._started
        if elapsed < WINDOW_SECONDS:
            return False
        cpu = self._cpu()
        busy = (cpu - self._cpu_at_start) / elapsed
        before = self.value
        if self._waited and elapsed < 2 * WINDOW_SECONDS:
            if busy >= BUSY:
                self.value = max(self.floor, before - max(1, before // 4))
            elif busy < IDLE:
                self.value = min(self.ceiling, before + 1)
        self._started, self._cpu_at_start, self._waited = now, cpu, waiting()
        return self.value > before
