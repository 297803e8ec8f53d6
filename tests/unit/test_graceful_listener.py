"""Stopping a replica (shared.web.graceful): before its listener closes, it stops completing new
handshakes, so no connection is completed and then reset (a POST sent on one is a 502 from
nginx), while the connections it already has keep being served."""

import asyncio
import socket
import sys

import aiohttp
import pytest
from aiohttp import web

from shared.web.graceful import _refuse_new_connections

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the socket filter is Linux's")


async def _connects(port: int, timeout: float) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    except TimeoutError:
        return False
    writer.close()
    return True


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def test_a_stopping_listener_completes_no_new_handshake_and_serves_open_connections():
    app = web.Application()
    app.router.add_get("/", _ok)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
            async with session.get(f"http://127.0.0.1:{port}/") as before:
                assert before.status == 200
            _refuse_new_connections(runner)
            # The SYN goes unanswered: not completed, so never reset later.
            assert not await _connects(port, timeout=0.3)
            async with session.get(f"http://127.0.0.1:{port}/") as kept_alive:  # the pooled connection
                assert kept_alive.status == 200 and await kept_alive.text() == "ok"
    finally:
        await runner.cleanup()
    with pytest.raises(ConnectionRefusedError):  # closed: a gateway's retry is refused, and it goes elsewhere
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
