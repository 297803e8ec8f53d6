"""A closed-loop HTTP load generator that runs in its own process (see tests/bench/support.py).

N connections each send their next request as soon as the last answer arrived, for D seconds
after a warm-up; the result has req/s, latency percentiles, and the CPU both the server and
the generator used. The HTTP client is a minimal HTTP/1.1 keep-alive one (Content-Length
bodies only), cheap enough that the server, not the generator, is what gets measured.

What to send comes from a request source: any ``module:function`` that, given a picklable
argument, returns an object with ``next(worker) -> Request | None`` and ``done(worker,
request, status, body)``; see ``FixedRequests`` and ``RepeatRequest``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import multiprocessing
import os
import queue
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

# --- requests ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def encode(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(self.body)}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


class RequestSource(Protocol):
    def next(self, worker: int) -> Request | None: ...
    def done(self, worker: int, request: Request, status: int, body: bytes) -> None: ...


class FixedRequests:
    """Each request of the list is sent once (e.g. one per single-use code), in order."""

    def __init__(self, requests: Sequence[Request]) -> None:
        self._requests = list(requests)
        self._next = 0

    def next(self, worker: int) -> Request | None:
        if self._next >= len(self._requests):
            return None
        self._next += 1
        return self._requests[self._next - 1]

    def done(self, worker: int, request: Request, status: int, body: bytes) -> None:
        pass


class RepeatRequest(FixedRequests):
    """The same request over and over (e.g. an API call with one bearer token)."""

    def __init__(self, request: Request) -> None:
        super().__init__([request])

    def next(self, worker: int) -> Request | None:
        return self._requests[0]


def fixed_requests(requests: Sequence[Request]) -> FixedRequests:
    return FixedRequests(requests)


def repeat_request(request: Request) -> RepeatRequest:
    return RepeatRequest(request)


# --- the load generator ------------------------------------------------------------------

@dataclass(frozen=True)
class LoadResult:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: tuple[float, ...] = field(repr=False, default=())
    statuses: dict[int, int] = field(default_factory=dict)
    server_cpu_seconds: float | None = None  # CPU the server process used during the run
    client_cpu_seconds: float | None = None  # CPU the load generator used (to show it is not the limit)

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.server_cpu_seconds is None or not self.requests:
            return None
        return self.server_cpu_seconds * 1000 / self.requests

    @property
    def client_cpu_share(self) -> float | None:
        """Fraction of one core the load generator used while measuring."""
        if self.client_cpu_seconds is None or not self.seconds:
            return None
        return self.client_cpu_seconds / self.seconds

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p99(self) -> float:
        return self.percentile(99)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readuntil(b"\r\n")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        elif name.strip().lower() == b"transfer-encoding":
            raise RuntimeError("the load generator only reads Content-Length responses")
    return status, await reader.readexactly(length) if length else b""


async def _worker(worker: int, host: str, port: int, source: RequestSource, warmup_until: float,
                  stop_at: float, samples: list[float], statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    host_header = f"{host}:{port}"
    try:
        while (now := time.perf_counter()) < stop_at:
            request = source.next(worker)
            if request is None:
                return
            writer.write(request.encode(host_header))
            status, body = await _read_response(reader)
            elapsed = time.perf_counter() - now
            source.done(worker, request, status, body)
            if now >= warmup_until:
                samples.append(elapsed * 1000)
                statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def _drive(name: str, base_url: str, source: RequestSource, concurrency: int, duration: float,
                 warmup: float) -> LoadResult:
    parts = urlsplit(base_url)
    start = time.perf_counter()
    warmup_until, stop_at = start + warmup, start + warmup + duration
    samples: list[float] = []
    statuses: dict[int, int] = {}
    cpu_start = time.process_time()
    await asyncio.gather(*(_worker(w, parts.hostname or "127.0.0.1", parts.port or 80, source, warmup_until,
                                   stop_at, samples, statuses) for w in range(concurrency)))
    measured = min(time.perf_counter(), stop_at) - warmup_until
    errors = sum(n for status, n in statuses.items() if status >= 400)
    # Scaled to the measured part, like the server's CPU.
    client_cpu = (time.process_time() - cpu_start) * measured / (measured + warmup) if measured > 0 else None
    return LoadResult(name, len(samples), errors, measured, tuple(samples), statuses, client_cpu_seconds=client_cpu)


def _child(name: str, base_url: str, factory: str, argument: Any, concurrency: int, duration: float,
           warmup: float, results) -> None:
    with contextlib.suppress(ImportError):
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    module, _, function = factory.partition(":")
    source = getattr(importlib.import_module(module), function)(argument)
    results.put(asyncio.run(_drive(name, base_url, source, concurrency, duration, warmup)))


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to compare servers on a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_load(name: str, base_url: str, factory: str, argument: Any, *, concurrency: int = 16,
             duration: float = 10.0, warmup: float = 2.0, server_pid: int | None = None) -> LoadResult:
    """Closed loop: ``concurrency`` connections, each sending its next request as soon as the
    previous answer arrived; only requests started after ``warmup`` seconds count. Runs in its
    own process; ``factory`` ("module:function") builds the request source there. With
    ``server_pid`` the result also says how much CPU the server spent (whole run, warm-up too)."""
    cpu_before = process_cpu_seconds(server_pid) if server_pid else None
    result = _run_child(name, base_url, factory, argument, concurrency, duration, warmup)
    if server_pid and cpu_before is not None:
        spent = process_cpu_seconds(server_pid) - cpu_before
        # Scale to the measured part: the warm-up requests cost CPU too.
        share = result.seconds / (result.seconds + warmup) if result.seconds else 0
        result = dataclasses.replace(result, server_cpu_seconds=spent * share)
    return result


def _run_child(name: str, base_url: str, factory: str, argument: Any, concurrency: int, duration: float,
               warmup: float) -> LoadResult:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=_child, args=(name, base_url, factory, argument, concurrency, duration,
                                                 warmup, results))
    child.start()
    deadline = time.monotonic() + warmup + duration + 120
    try:
        while True:
            with contextlib.suppress(queue.Empty):
                value: LoadResult = results.get(timeout=0.5)
                return value
            if not child.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"load generator for {name} stopped without a result (exit {child.exitcode})")
    finally:
        child.join(timeout=30)


def combine(results: Sequence[LoadResult]) -> LoadResult:
    """Rounds of one case as one result: all requests and latencies, the summed time."""
    statuses: dict[int, int] = {}
    for result in results:
        for status, n in result.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    def total(values: list[float | None]) -> float | None:
        return None if None in values else sum(v for v in values if v is not None)

    return LoadResult(results[0].name, sum(r.requests for r in results), sum(r.errors for r in results),
                      sum(r.seconds for r in results), tuple(x for r in results for x in r.latencies_ms), statuses,
                      total([r.server_cpu_seconds for r in results]), total([r.client_cpu_seconds for r in results]))


def format_result(result: LoadResult, floor: LoadResult | None = None) -> str:
    ratio = f"{result.rps / floor.rps:6.0%} of floor" if floor is not None and floor.rps else ""
    errors = f"  {result.errors} errors {dict(sorted(result.statuses.items()))}" if result.errors else ""
    cpu = f"   server cpu {result.cpu_ms_per_request:.2f} ms/req" if result.cpu_ms_per_request is not None else ""
    if result.client_cpu_share is not None:
        cpu += f", load generator {result.client_cpu_share:.0%} of a core"
    return (f"{result.name:<44} {result.rps:8.0f} req/s   p50 {result.p50:6.1f} ms   "
            f"p99 {result.p99:6.1f} ms{cpu}   {ratio}{errors}")
