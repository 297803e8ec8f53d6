"""argon2id password hashing (RFC 9106), off the event loop."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.crypto.passwords import Passwords

# Deliberately slow enough (tens of ms) that a blocked event loop would be measurable.
SLOW = {"time_cost": 2, "memory_kib": 32 * 1024, "parallelism": 1}
FAST = {"time_cost": 1, "memory_kib": 1024, "parallelism": 1}


@pytest.fixture(scope="module")
def executor():
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield pool


@pytest.fixture(scope="module")
def fast(executor) -> Passwords:
    return Passwords(executor, **FAST)


@pytest.fixture(scope="module")
def slow(executor) -> Passwords:
    return Passwords(executor, **SLOW)


async def test_hash_is_argon2id_with_the_configured_cost(fast):
    stored = await fast.hash("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert "correct horse battery" not in stored


async def test_same_password_hashes_differently_each_time(fast):
    assert await fast.hash("correct horse battery") != await fast.hash("correct horse battery")


@pytest.mark.parametrize(("stored_for", "given", "ok"), [
    ("correct horse battery", "correct horse battery", True),
    ("correct horse battery", "correct horse batterY", False),
    ("correct horse battery", "", False),
    ("ünïcödé pässwörd", "ünïcödé pässwörd", True),
], ids=["right", "wrong by one char", "empty", "unicode"])
async def test_verify(fast, stored_for, given, ok):
    assert await fast.verify(await fast.hash(stored_for), given) is ok


@pytest.mark.parametrize("given", ["anything", "latchkey-decoy-password"], ids=["any", "the decoy's own password"])
async def test_unknown_user_never_verifies(fast, given):
    assert await fast.verify(None, given) is False


async def test_a_corrupt_hash_is_a_failed_login_not_a_crash(fast):
    assert await fast.verify("$argon2id$garbage", "anything") is False
    assert await fast.verify("plain-text-in-db", "plain-text-in-db") is False


async def _max_loop_stall(work) -> tuple[float, float]:
    """Runs ``work`` while a ticker measures the longest gap between its 5 ms ticks."""
    worst = 0.0
    stop = asyncio.Event()

    async def ticker():
        nonlocal worst
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            worst = max(worst, now - last)
            last = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.02)
    started = time.perf_counter()
    await work()
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    return elapsed, worst


async def test_hashing_keeps_the_event_loop_responsive(slow):
    stored = slow.hash_sync("correct horse battery")

    async def hash_and_verify():
        await asyncio.gather(slow.hash("correct horse battery"), slow.verify(stored, "correct horse battery"))

    elapsed, stall = await _max_loop_stall(hash_and_verify)
    assert elapsed > 0.04, "hashing too fast to tell anything"
    assert stall < elapsed / 2

    # The same work done on the loop is caught by the same measurement.
    async def blocking():
        slow.hash_sync("correct horse battery")

    elapsed, stall = await _max_loop_stall(blocking)
    assert stall >= elapsed * 0.9


async def test_unknown_user_costs_about_as_much_as_a_real_check(slow):
    # Otherwise response time tells an attacker which usernames exist.
    stored = slow.hash_sync("correct horse battery")

    async def timed(password_hash):
        started = time.perf_counter()
        await slow.verify(password_hash, "wrong password")
        return time.perf_counter() - started

    known = min([await timed(stored) for _ in range(3)])
    unknown = min([await timed(None) for _ in range(3)])
    assert unknown > known * 0.5
