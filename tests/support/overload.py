"""Load for overload tests: a closed loop to measure capacity, an open loop to exceed it.

The open loop sends requests at a fixed rate whatever the server does (as real clients do), so
a server that queues without bound shows it in the latency; each request's latency counts from
the moment it was due, not from when a connection was free (no coordinated omission). Bounded
in time and in count; loopback only. A minimal HTTP/1.1 keep-alive client (Content-Length only).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_CONNECTIONS = 512


@dataclass(frozen=True)
class Answer:
    status: int  # 0: no answer (connection error or the client's own timeout)
    headers: dict[str, str]
    body: bytes
    latency: float  # seconds from when the request was due


@dataclass
class Run:
    answers: list[Answer] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.answers) / self.elapsed if self.elapsed else 0.0

    def with_status(self, status: int) -> list[Answer]:
        return [a for a in self.answers if a.status == status]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else 0.0


class Connections:
    """Idle keep-alive connections to one loopback server, opened as needed, at most MAX_CONNECTIONS."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("overload tests target loopback only")
        self.host, self.port = parts.hostname, parts.port or 80
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._open = 0

    async def request(self, raw: bytes, due: float, timeout: float) -> Answer:
        try:
            async with asyncio.timeout(timeout):
                reader, writer = self._idle.pop() if self._idle else await self._connect()
                writer.write(raw)
                status, headers, body = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            self._open -= 1
            return Answer(0, {}, b"", time.perf_counter() - due)
        self._idle.append((reader, writer))
        return Answer(status, headers, body, time.perf_counter() - due)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._open >= MAX_CONNECTIONS:
            raise OSError("connection cap reached")
        self._open += 1
        return await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


@contextlib.contextmanager
def no_collector_pauses() -> Iterator[None]:
    """The cyclic garbage collector off while a loop runs (bounded in time and count, so memory is
    too): a full collection of this process's objects takes tens of milliseconds on a busy machine,
    and would count as the latency of every answer in flight, a pause of the client's, not the
    server's."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def encode(method: str, path: str, host: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    status = int((await reader.readuntil(b"\r\n")).split(b" ", 2)[1])
    headers: dict[str, str] = {}
    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    return status, headers, await reader.readexactly(length) if length else b""


async def closed_loop(connections: Connections, requests: Iterator[bytes], *, concurrency: int, duration: float,
                      timeout: float = 10.0) -> Run:
    """``concurrency`` clients, each sending its next request when the last was answered."""
    run, stop_at = Run(), time.perf_counter() + duration

    async def client() -> None:
        while time.perf_counter() < stop_at:
            raw = next(requests, None)
            if raw is None:
                return
            run.answers.append(await connections.request(raw, time.perf_counter(), timeout))

    started = time.perf_counter()
    with no_collector_pauses():
        await asyncio.gather(*(client() for _ in range(concurrency)))
    run.elapsed = time.perf_counter() - started
    return run


async def open_loop(connections: Connections, requests: Iterator[bytes], *, rate: float, duration: float,
                    timeout: float = 10.0) -> Run:
    """Sends ``rate`` requests a second for ``duration`` seconds (at most rate * duration)."""
    run, tasks, interval = Run(), [], 1 / rate
    started = time.perf_counter()
    with no_collector_pauses():
        for n in range(int(rate * duration)):
            due = started + n * interval
            if (delay := due - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            raw = next(requests, None)
            if raw is None:
                break
            tasks.append(asyncio.create_task(connections.request(raw, due, timeout)))
        run.answers = list(await asyncio.gather(*tasks))
    run.elapsed = time.perf_counter() - started
    return run
