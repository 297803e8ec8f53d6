"""A TCP proxy on loopback that delays every chunk it forwards: PostgreSQL or Redis "across a
network" for a test, with real servers behind it. ``with slow_link(host, port, delay) as port``:
connect to ``port``; each direction adds ``delay`` seconds per read chunk, in order. It runs on
an event loop of its own thread, so a test that blocks its loop (waiting for a subprocess to
start, say) does not stall the link."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from types import TracebackType


class SlowLink:
    def __init__(self, host: str, port: int, delay: float) -> None:
        self._target = (host, port)
        self._delay = delay
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def __aenter__(self) -> SlowLink:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        for task in (self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)):
            spawned = asyncio.ensure_future(task)
            self._tasks.add(spawned)
            spawned.add_done_callback(self._tasks.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Each chunk is written ``delay`` after it was read; chunks stay in order (latency, not
        a bandwidth limit: a chunk read while another waits is not delayed twice)."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                if not chunk:
                    break
                await asyncio.sleep(max(0.0, due - loop.time()))
                writer.write(chunk)
                await writer.drain()

        delivery = asyncio.ensure_future(deliver())
        try:
            while chunk := await reader.read(65536):
                queue.put_nowait((loop.time() + self._delay, chunk))
            queue.put_nowait((loop.time(), b""))
            await delivery
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            delivery.cancel()
            with contextlib.suppress(Exception):
                writer.close()


@contextlib.contextmanager
def slow_link(host: str, port: int, delay: float) -> Iterator[int]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="slow-link", daemon=True)
    thread.start()
    link = SlowLink(host, port, delay)
    asyncio.run_coroutine_threadsafe(link.__aenter__(), loop).result(timeout=10)
    try:
        yield link.port
    finally:
        asyncio.run_coroutine_threadsafe(link.__aexit__(None, None, None), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
