"""Twice the token endpoint's capacity: every request answered fast, the excess shed with 503.

The token service runs as its own process (`latchkey serve token`), the load comes from this
one over loopback (tests/support/token_overload.py): first the capacity is measured (a closed
loop at the service's concurrency limit) and the unloaded latency (one client); then code
exchanges arrive at twice that capacity for OVERLOAD_SECONDS (the issue's target runs 20 s, as
tests/bench/bench_overload.py does; 5 s keeps the suite quick and shows the same thing, since
without shedding the backlog grows every second). Assertions are ratios to what was measured on
this machine in the same run, and time limits the target sets.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.bench.support import serve
from tests.support.factories import make_client, make_user
from tests.support.overload import percentile
from tests.support.token_overload import ANSWER_WITHIN, REDIRECT_URI, overload_token_service

pytestmark = pytest.mark.overload

OVERLOAD_SECONDS = float(os.environ.get("OVERLOAD_SECONDS", "5"))


async def test_twice_the_capacity_is_answered_within_2_s_and_readiness_holds(
        test_env, pool, redis, settings, tmp_path):
    client = await make_client(pool, redirect_uris=(REDIRECT_URI,))
    user = await make_user(pool, settings)
    # One client at twice the capacity is what a per-client rate limit refuses: measure shedding alone.
    env = {**test_env, "LATCHKEY_RATE_LIMIT_PER_CLIENT": "0"}
    with serve("token", env, log_path=tmp_path / "token.log") as token:
        run = await overload_token_service(token.url, redis, settings, client, user, seconds=OVERLOAD_SECONDS,
                                          server_pid=token.pid)

    print("\n" + "\n".join(run.lines()))
    assert {a.status for a in run.unloaded.answers + run.capacity.answers} == {200}
    assert run.shed and run.accepted, "at twice the capacity some requests are shed and some served"
    assert run.slowest < ANSWER_WITHIN, "every request answered within 2 s"
    for answer in run.shed:
        assert answer.status == 503 and int(answer.headers["retry-after"]) >= 1
        assert json.loads(answer.body)["error"] == "temporarily_unavailable"
    assert run.ready_statuses and set(run.ready_statuses) == {200}, "readiness does not flap under load"
    # Accepted requests wait about as long as at capacity (every place busy, as in the closed loop
    # above; a standing queue lets newcomers wait only the CoDel target), where without a bound
    # they wait behind a backlog that grows every second, and with only the burst patience about
    # LATCHKEY_REQUEST_QUEUE_WAIT_MS (50x the median at capacity). The median, as a ratio to this
    # run's own figure, with room for a 2-core machine whose load generator shares the cores
    # (measured 2-3.5x): this guards the mechanism; the figures (p99 within 3x the
    # unloaded p99) are a benchmark's (`make bench`, tests/bench/bench_overload.py), not a test's.
    assert percentile(run.accepted, 50) <= 6 * percentile([a.latency for a in run.capacity.answers], 50)
    # Back to normal at once: right after the overload, requests are served, none shed.
    assert run.after.answers and {a.status for a in run.after.answers} == {200}
    assert run.after.answers[0].latency < ANSWER_WITHIN
