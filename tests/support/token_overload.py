"""The token service at twice its capacity: one measurement for the overload test and the benchmark.

Against a running token service (`latchkey serve token`), from this process over loopback: the
unloaded latency (one client), the capacity (a closed loop of CAPACITY_CLIENTS, enough to keep
the service's event loop busy over loopback), then code exchanges arriving at twice that capacity for
``seconds`` (an open loop) while /readyz is polled, then one client again (recovery).
tests/integration/token/test_token_overload.py asserts on it; tests/bench/bench_overload.py
prints it against the issue's targets.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from shared.config import Settings
from shared.crypto.digests import new_secret
from shared.models import AuthorizationGrant
from shared.pkce import s256_challenge
from shared.stores.redis_codes import RedisCodeStore
from tests.bench.loadgen import process_cpu_seconds
from tests.support.overload import Answer, Connections, Run, closed_loop, encode, open_loop, percentile

ANSWER_WITHIN = 2.0  # the target: every request answered within 2 s
REDIRECT_URI = "https://app.example/callback"
CAPACITY_CLIENTS = 4  # two keep one event loop busy with the stores on loopback; four leave no gap


class Exchanges:
    """Code-exchange requests for codes stored ahead (each code is single use)."""

    def __init__(self, redis: Any, settings: Settings, client: Any, user: Any, host: str) -> None:
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


@dataclass(frozen=True)
class Overload:
    """The four phases of one run, and /readyz's statuses during the overload."""

    unloaded: Run
    capacity: Run
    overload: Run
    after: Run
    rate: float  # the overload's arrivals a second: twice the capacity measured
    clients: int  # how many clients the capacity's closed loop ran
    ready_statuses: list[int]
    # CPU used during the overload, as a share of one core: the load generator (this process)
    # shares the machine's cores with the service, so what it takes the service cannot use.
    client_cpu: float
    server_cpu: float | None  # None when the service's pid was not given

    @property
    def shed(self) -> list[Answer]:
        return [a for a in self.overload.answers if a.status != 200]

    @property
    def accepted(self) -> list[float]:
        return [a.latency for a in self.overload.with_status(200)]

    @property
    def unloaded_p99(self) -> float:
        return percentile([a.latency for a in self.unloaded.answers], 99)

    @property
    def p99_ratio(self) -> float:
        """The issue's measure: accepted p99 at 2x / unloaded p99."""
        return percentile(self.accepted, 99) / self.unloaded_p99

    @property
    def slowest(self) -> float:
        return max(a.latency for a in self.overload.answers)

    def lines(self) -> list[str]:
        return [*(summary(name, run) for name, run in (
                    ("unloaded", self.unloaded), ("capacity", self.capacity),
                    (f"2x ({self.rate:.0f}/s)", self.overload), ("after", self.after))),
                f"accepted p99 / unloaded p99 at 2x: {self.p99_ratio:.1f}x; CPU during 2x: load generator "
                f"{self.client_cpu:.0%} of a core" + (f", service {self.server_cpu:.0%}" if self.server_cpu is not None
                                                      else "")]


async def overload_token_service(url: str, redis: Any, settings: Settings, client: Any, user: Any, *,
                                 seconds: float, clients: int = CAPACITY_CLIENTS,
                                 server_pid: int | None = None) -> Overload:
    """Runs the four phases against the token service at ``url`` (codes for ``client`` and ``user``,
    stored through ``redis`` under ``settings``' prefix), its capacity measured with ``clients``. Its
    per-client rate limit must be off: one client at twice the capacity is what it refuses, and this
    measures shedding alone. With ``server_pid`` the service's CPU during the overload is measured too."""
    load, probes = Connections(url), Connections(url)
    host = f"{load.host}:{load.port}"
    exchanges = Exchanges(redis, settings, client, user, host)
    try:
        # Warm-up, not counted: the first requests open the service's pools and fill its caches,
        # and would stand for the unloaded tail the target is a multiple of.
        await closed_loop(load, await exchanges.make(400), concurrency=clients, duration=0.5)
        # Enough requests that the p99 is not just the slowest one or two.
        unloaded = await closed_loop(load, await exchanges.make(1000), concurrency=1, duration=2.0)
        capacity = await closed_loop(load, await exchanges.make(3000), concurrency=clients, duration=2.0)
        rate = 2 * capacity.rate
        requests = await exchanges.make(int(rate * seconds))
        stop = asyncio.Event()
        readiness = asyncio.create_task(poll_readiness(probes, host, stop))
        cpu = time.process_time(), process_cpu_seconds(server_pid) if server_pid else 0.0, time.perf_counter()
        overload = await open_loop(load, requests, rate=rate, duration=seconds, timeout=10)
        stop.set()
        elapsed = time.perf_counter() - cpu[2]
        client_cpu = (time.process_time() - cpu[0]) / elapsed
        server_cpu = (process_cpu_seconds(server_pid) - cpu[1]) / elapsed if server_pid else None
        after = await closed_loop(load, await exchanges.make(20), concurrency=1, duration=ANSWER_WITHIN)
        ready_statuses = await readiness
    finally:
        load.close()
        probes.close()
    return Overload(unloaded, capacity, overload, after, rate, clients, ready_statuses, client_cpu, server_cpu)

