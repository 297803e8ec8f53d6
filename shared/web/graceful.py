"""Serving one app until SIGTERM/SIGINT, then stopping without failing a request.

The order is what a rolling restart behind a load balancer needs:

1. ``/readyz`` answers 503 ``draining`` at once (shared.web.readiness), while the listener
   still accepts and serves for LATCHKEY_SHUTDOWN_DELAY_SECONDS: a balancer that routes by
   readiness (Kubernetes endpoints, a health-checking gateway) takes the replica out before
   its port closes, the same job as a Kubernetes ``preStop`` sleep.
2. The listener stops completing handshakes, and a quarter second later, once what was queued
   is accepted, it closes (new connections are refused, so a balancer retries them elsewhere);
   idle keep-alive connections close, and requests in flight get up to
   LATCHKEY_SHUTDOWN_GRACE_SECONDS to finish; busy connections close after their answer.
3. Then the app's cleanup_ctx runs in reverse: background tasks stop, pools close.

aiohttp's ``run_app`` does steps 2 and 3 but not 1; this is its loop with step 1 added.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from typing import Any

from aiohttp import web

from shared.config import Settings
from shared.web.readiness import READINESS

log = logging.getLogger("latchkey.shutdown")

ACCEPTED_SETTLE_SECONDS = 0.25  # for the server to accept what the kernel had queued


async def serve_until_signalled(app: web.Application, settings: Settings, host: str, port: int,
                                **runner_kwargs: Any) -> None:
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=settings.shutdown_grace, **runner_kwargs)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await web.TCPSite(runner, host, port).start()
        await stop.wait()
        readiness = app.get(READINESS)
        if readiness is not None:
            readiness.start_draining()
        log.info("stopping: /readyz fails now, the listener closes in %d s, requests in flight then get %d s",
                 settings.shutdown_delay, settings.shutdown_grace)
        await asyncio.sleep(settings.shutdown_delay)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        # Closing a listening socket resets the connections the kernel completed but the server
        # had not yet accepted; a gateway that had sent a request on one gets a reset after
        # sending it, and nginx answers a POST lost so with 502. So the backlog is shrunk to
        # nothing first (new handshakes are not completed: the gateway's connect times out or is
        # refused once the socket closes, and it tries another replica), what is queued is
        # accepted, and only then is the socket closed and are idle connections closed.
        _stop_queueing(runner)
        await asyncio.sleep(ACCEPTED_SETTLE_SECONDS)
        await runner.cleanup()  # closes the listener, drains, then runs cleanup_ctx in reverse
    log.info("stopped")


def _stop_queueing(runner: web.AppRunner) -> None:
    """listen(0) on every listening socket: Linux then completes no new handshake (one already
    queued still is accepted). The sockets belong to the event loop's servers, so a duplicate
    of each descriptor is used; the backlog is a property of the socket, shared by both."""
    for site in runner.sites:
        server = getattr(site, "_server", None)  # aiohttp keeps the loop's server private
        for listening in getattr(server, "sockets", None) or ():
            with contextlib.suppress(OSError), socket.socket(fileno=os.dup(listening.fileno())) as duplicate:
                duplicate.listen(0)
