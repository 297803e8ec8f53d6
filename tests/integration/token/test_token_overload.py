"""Twice the token endpoint's capacity: every request answered fast, the excess shed with 503.

The token service runs as its own process (`latchkey serve token`), the load comes from this
one over loopback. First the capacity is measured (a closed loop at the service's concurrency
limit) and the unloaded latency (one client); then code exchanges arrive at twice that capacity
for OVERLOAD_SECONDS (the issue's target runs 20 s; 5 s keeps the suite quick and shows the same
thing, since without shedding the backlog grows every second). Assertions are ratios to what was
measured on this machine in the same run, and time limits the target sets.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from services.token.app import MAX_CONCURRENT_REQUESTS
from shared.crypto.digests import new_secret
from shared.models import AuthorizationGrant
from shared.pkce import s256_challenge
from shared.stores.redis_codes import RedisCodeStore
from tests.bench.support import serve
from tests.support.factories import make_client, make_user
from tests.support.overload import Connections, Run, closed_loop, encode, open_loop, percentile

pytestmark = pytest.mark.overload

OVERLOAD_SECONDS = float(os.environ.get("OVERLOAD_SECONDS", "5"))
ANSWER_WITHIN = 2.0  # the target: every request answered within 2 s
REDIRECT_URI = "https://app.example/callback"


class Exchanges:
    """Code-exchange requests for codes stored ahead (each code is single use)."""

    def __init__(self, redis, settings, client, user, host: str) -> None:
        self._store = RedisCodeStore(redis, settings.redis_prefix)
        self._client, self._user, self._host = client, user, host
        pair = f"{client.client_id}:{client.secret}".encode()
        self._headers = {"Authorization": "Basic " + base64.b64encode(pair).decode(),
                         "Content-Type": "application/x-www-form-urlencoded"}

    async def make(self, count: int) -> Iterator[bytes]:
        pairs = [(new_secret(32), new_secret(32)) for _ in range(count)]
        for start in range(0, count, 500):
            await asyncio.gather(*(self._store.save(code, self._grant(verifier), 600)
                                   for code, verifier in pairs[start:start + 500]))
        return iter([encode("POST", "/token", self._host, self._headers, urlencode({
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier}).encode()) for code, verifier in pairs])

    def _grant(self, verifier: str) -> AuthorizationGrant:
        return AuthorizationGrant(
            client_id=self._client.client_id, redirect_uri=REDIRECT_URI, scope=("openid",),
            user_id=str(self._user.id), auth_time=int(time.time()), nonce="overload",
            code_challenge=s256_challenge(verifier), code_challenge_method="S256", grant_id=str(uuid.uuid4()))


async def poll_readiness(connections: Connections, host: str, stop: asyncio.Event) -> list[int]:
    statuses = []
    while not stop.is_set():
        answer = await connections.request(encode("GET", "/readyz", host), time.perf_counter(), ANSWER_WITHIN * 2)
        statuses.append(answer.status)
        await asyncio.sleep(0.2)
    return statuses


def summary(name: str, run: Run) -> str:
    accepted = [a.latency * 1000 for a in run.with_status(200)]
    return (f"{name}: {len(run.answers)} requests, {run.rate:.0f}/s, accepted {len(accepted)} "
            f"p50 {percentile(accepted, 50):.1f} ms p99 {percentile(accepted, 99):.1f} ms, "
            f"slowest answer {max(a.latency for a in run.answers) * 1000:.0f} ms")


async def test_twice_the_capacity_is_answered_within_2_s_and_readiness_holds(
        test_env, pool, redis, settings, tmp_path):
    client = await make_client(pool, redirect_uris=(REDIRECT_URI,))
    user = await make_user(pool, settings)
    # One client at twice the capacity is what a per-client rate limit refuses: measure shedding alone.
    env = {**test_env, "LATCHKEY_RATE_LIMIT_PER_CLIENT": "0"}
    with serve("token", env, log_path=tmp_path / "token.log") as token:
        load, probes = Connections(token.url), Connections(token.url)
        host = f"{load.host}:{load.port}"
        exchanges = Exchanges(redis, settings, client, user, host)

        unloaded = await closed_loop(load, await exchanges.make(150), concurrency=1, duration=1.5)
        # Capacity: what the service completes with every place busy and nobody queued.
        capacity = await closed_loop(load, await exchanges.make(3000), concurrency=MAX_CONCURRENT_REQUESTS,
                                     duration=2.0)
        assert {a.status for a in unloaded.answers + capacity.answers} == {200}
        rate = 2 * capacity.rate
        requests = await exchanges.make(int(rate * OVERLOAD_SECONDS))

        stop = asyncio.Event()
        readiness = asyncio.create_task(poll_readiness(probes, host, stop))
        overload = await open_loop(load, requests, rate=rate, duration=OVERLOAD_SECONDS, timeout=10)
        stop.set()
        after = await closed_loop(load, await exchanges.make(20), concurrency=1, duration=ANSWER_WITHIN)
        load.close()
        probes.close()
        ready_statuses = await readiness

    shed = [a for a in overload.answers if a.status != 200]
    accepted = [a.latency for a in overload.with_status(200)]
    unloaded_p99 = percentile([a.latency for a in unloaded.answers], 99)
    print("\n" + "\n".join(summary(n, r) for n, r in (("unloaded", unloaded), ("capacity", capacity),
                                                       (f"2x ({rate:.0f}/s)", overload), ("after", after))))
    print(f"accepted p99 / unloaded p99 at 2x: {percentile(accepted, 99) / unloaded_p99:.1f}x")
    assert shed and accepted, "at twice the capacity some requests are shed and some served"
    assert max(a.latency for a in overload.answers) < ANSWER_WITHIN, "every request answered within 2 s"
    for answer in shed:
        assert answer.status == 503 and int(answer.headers["retry-after"]) >= 1
        assert json.loads(answer.body)["error"] == "temporarily_unavailable"
    assert ready_statuses and set(ready_statuses) == {200}, "readiness does not flap under load"
    # Accepted requests wait about as long as at capacity (every place busy, as in the closed loop
    # above; a standing queue lets newcomers wait only the CoDel target), where without a bound
    # they wait behind a backlog that grows every second, and with only the burst patience about
    # LATCHKEY_REQUEST_QUEUE_WAIT_MS (50x the median at capacity). The median, as a ratio to this
    # run's own figure, with room for a 2-core machine whose load generator shares the cores
    # (measured 2-3.5x): this guards the mechanism; the figures (p99 within 3x the
    # unloaded p99) are a benchmark's (`make bench`, tests/bench/bench_overload.py), not a test's.
    assert percentile(accepted, 50) <= 6 * percentile([a.latency for a in capacity.answers], 50)
    # Back to normal at once: right after the overload, requests are served, none shed.
    assert after.answers and {a.status for a in after.answers} == {200}
    assert after.answers[0].latency < ANSWER_WITHIN
