"""Real HTTP servers on spare loopback ports for tests (aiohttp AppRunner, no mocks)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from aiohttp import web

from tests.support.secrets import ACCESS_LOG


def spare_socket() -> socket.socket:
    """A bound, listening socket: its port is known before the app is built, and nobody can take it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


class RunningApp:
    def __init__(self, app: web.Application, sock: socket.socket | None = None) -> None:
        self.app = app
        self.sock = sock or spare_socket()
        self.url = url_of(self.sock)
        self._runner = web.AppRunner(app, **ACCESS_LOG)  # type: ignore[arg-type]

    async def __aenter__(self) -> RunningApp:
        await self._runner.setup()
        await web.SockSite(self._runner, self.sock).start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._runner.cleanup()


class JwksServer:
    """Serves a key set like the token service's /jwks, and counts how often it is fetched."""

    def __init__(self, jwks: list[dict[str, Any]], *, cache_control: str = "public, max-age=300") -> None:
        self.keys = list(jwks)
        self.cache_control = cache_control
        self.status = 200
        self.hanging = asyncio.Event()  # set: answers are held back (a hung token service) until stop()
        self.hits = 0
        self._stopped = False
        self._released = asyncio.Event()
        app = web.Application()
        app.router.add_get("/jwks", self._jwks)
        self._running = RunningApp(app)
        self.url = self._running.url + "/jwks"

    async def _jwks(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.hanging.is_set():
            await self._released.wait()
        if self.status != 200:
            return web.Response(status=self.status)
        return web.json_response({"keys": self.keys}, headers={"Cache-Control": self.cache_control})

    async def __aenter__(self) -> JwksServer:
        await self._running.__aenter__()
        return self

    async def stop(self) -> None:
        """Goes down for good: from now on connections to it are refused."""
        if not self._stopped:
            self._stopped = True
            self._released.set()
            await self._running.__aexit__(None, None, None)

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()
