"""Serving one app until SIGTERM/SIGINT, then stopping without failing a request.

The order is what a rolling restart behind a load balancer needs:

1. ``/readyz`` answers 503 ``draining`` at once (shared.web.readiness), while the listener
   still accepts and serves for LATCHKEY_SHUTDOWN_DELAY_SECONDS: a balancer that routes by
   readiness (Kubernetes endpoints, a health-checking gateway) takes the replica out before
   its port closes, the same job as a Kubernetes ``preStop`` sleep.
2. The listener stops completing new handshakes (a socket filter drops every new SYN; the
   client's first retry, about a second later, is refused), and a quarter second later, once
   what was queued is accepted and its request read, it closes (new connections are refused,
   so a balancer retries them elsewhere);
   idle keep-alive connections close, and requests in flight get up to
   LATCHKEY_SHUTDOWN_GRACE_SECONDS to finish, bodies still arriving included; busy connections
   close after their answer.
3. Then the app's cleanup_ctx runs in reverse: background tasks stop, pools close.

aiohttp's ``run_app`` does steps 2 and 3 but not 1; this is its loop with step 1 added.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import struct
import sys
from typing import Any

from aiohttp import hdrs, web

from shared.config import Settings
from shared.web.readiness import READINESS

log = logging.getLogger("latchkey.shutdown")

ACCEPTED_SETTLE_SECONDS = 0.25  # for the server to accept what the kernel had queued
IN_FLIGHT_POLL_SECONDS = 0.05  # how often the drain looks whether the requests in flight are done
STRAGGLER_SECONDS = 1.0  # aiohttp's own wait, after the grace, for a handler finishing its answer
SO_ATTACH_FILTER = 26  # Linux; the socket module does not name it
# A classic BPF program of one instruction, "return 0": keep no byte of any packet.
_DROP_EVERY_PACKET = ctypes.create_string_buffer(struct.pack("=HBBI", 0x06, 0, 0, 0))  # BPF_RET | BPF_K


async def serve_until_signalled(app: web.Application, settings: Settings, host: str, port: int, *,
                                name: str = "app", **runner_kwargs: Any) -> None:
    """``name`` is the service, for the line that says it listens (once its start-up, stores
    included, succeeded: a start-up that fails says only why)."""
    answer_then_close = _AnswerThenClose()
    app.on_response_prepare.append(answer_then_close)
    # The grace is spent in _finish_requests_in_flight; aiohttp's own wait only sees stragglers off.
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=STRAGGLER_SECONDS, **runner_kwargs)
    try:
        await runner.setup()
    except Exception:
        # What started before the failing step (pools, background tasks) stops first, so the
        # error is all the process says, not a traceback of a task cut off at exit.
        try:
            await app.cleanup()
        except Exception:
            log.exception("stopping what had started failed too")
        raise
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await web.TCPSite(runner, host, port).start()
        logging.getLogger("latchkey").info("%s listening on http://%s:%d", name, host, port)
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
        # had not yet accepted, and closing idle connections resets one accepted a moment ago
        # whose request is not read yet; a gateway that had sent a request on either gets a
        # reset after sending it, and nginx answers a POST lost so with 502. So new handshakes
        # stop first (the gateway's SYN goes unanswered; its retry is refused once the socket
        # closes, and it tries another replica), what is queued is accepted and read, and only
        # then is the socket closed and are idle connections closed.
        _refuse_new_connections(runner)
        await asyncio.sleep(ACCEPTED_SETTLE_SECONDS)
        for site in list(runner.sites):
            await site.stop()  # the listener closes: a new connection is refused now
        answer_then_close.active = True
        await _finish_requests_in_flight(runner, settings.shutdown_grace)
        await runner.cleanup()  # closes what connections are left, then runs cleanup_ctx in reverse
    log.info("stopped")


class _AnswerThenClose:
    """Once the listener is closing, every answer ends its connection (Connection: close): a
    keep-alive client's next request goes to another replica, and this one runs out of work."""

    def __init__(self) -> None:
        self.active = False

    async def __call__(self, request: web.Request, response: web.StreamResponse) -> None:
        if self.active:
            response.force_close()  # the connection closes after this answer
            response.headers[hdrs.CONNECTION] = "close"  # (its headers were made before this hook runs)


async def _finish_requests_in_flight(runner: web.AppRunner, grace: float) -> None:
    """The requests in flight finish, within ``grace``, before aiohttp's shutdown begins: from then
    on it drops every byte that arrives, so a request still receiving its body would never get
    it (and be answered 500 at the end of the grace). Idle keep-alive connections close at once,
    busy ones after their answer (``_AnswerThenClose``)."""
    server, loop = runner.server, asyncio.get_running_loop()
    deadline = loop.time() + grace
    while server is not None and loop.time() < deadline:
        busy = False
        for connection in list(server.connections):
            # aiohttp keeps both private. Without them every connection looks idle and closes at
            # once: aiohttp's own shutdown. Idle is how its keep-alive timer sees it: waiting for
            # the next request, none in progress.
            waiter = getattr(connection, "_waiter", None)
            if getattr(connection, "_request_in_progress", False):
                busy = True
            elif waiter is None or not waiter.done():
                connection.force_close()
            else:
                busy = True  # between two requests: looked at again next round
        if not busy:
            return
        await asyncio.sleep(IN_FLIGHT_POLL_SECONDS)


def _refuse_new_connections(runner: web.AppRunner) -> None:
    """Every listening socket stops completing handshakes, and keeps what it has queued.

    On Linux a socket filter that drops every packet does it: it also sees the SYNs of the
    listener. (A handshake already half-way when it is attached, one round trip, is not
    completed either, and is reset when the socket closes.) Elsewhere, listen(0) comes closest
    (Linux would still complete one handshake at a time, which is why it is only the fallback).
    The sockets belong to the event loop's servers, so a duplicate of each descriptor is used;
    both options are the socket's own."""
    program = struct.pack("HP", 1, ctypes.addressof(_DROP_EVERY_PACKET))  # struct sock_fprog
    for site in runner.sites:
        server = getattr(site, "_server", None)  # aiohttp keeps the loop's server private
        for listening in getattr(server, "sockets", None) or ():
            with contextlib.suppress(OSError), socket.socket(fileno=os.dup(listening.fileno())) as duplicate:
                _stop_handshakes(duplicate, program)


def _stop_handshakes(listening: socket.socket, program: bytes) -> None:
    if sys.platform == "linux":  # the option's number is Linux's
        try:
            listening.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, program)
            return
        except OSError:
            pass
    listening.listen(0)
