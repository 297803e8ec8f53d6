"""SIGTERM while a request is still receiving its body (shared.web.graceful): the request is
answered, keep-alive connections close, and the process exits as soon as nothing is in flight.

aiohttp's own shutdown drops every byte that arrives once it has begun, so such a request never
got its body: it was answered 500 when the grace ran out, and the process waited all of it.
A real `latchkey serve token` process, raw sockets on loopback.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.bench.support import REPO_ROOT, free_port, wait_for_http

DELAY, GRACE = 1, 20
BODY = b"grant_type=refresh_token&refresh_token=" + b"y" * 43


def _read_answer(sock: socket.socket) -> bytes:
    sock.settimeout(GRACE + 5)
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    return answer


@pytest.mark.skipif(sys.platform != "linux", reason="the listener's socket filter is Linux's")
async def test_a_body_still_arriving_at_sigterm_is_read_and_answered_and_the_process_exits_at_once(test_env):
    port = free_port()
    env = {**os.environ, **test_env, "LATCHKEY_SHUTDOWN_DELAY_SECONDS": str(DELAY),
           "LATCHKEY_SHUTDOWN_GRACE_SECONDS": str(GRACE)}
    process = subprocess.Popen([sys.executable, "-m", "shared.cli.main", "serve", "token", "--host", "127.0.0.1",
                                "--port", str(port)], env=env, cwd=REPO_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/readyz", timeout=30, process=process)
        idle = socket.create_connection(("127.0.0.1", port))
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_answer(idle).startswith(b"HTTP/1.1 200")  # kept alive, then idle
        uploading = socket.create_connection(("127.0.0.1", port))
        uploading.sendall(b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                          b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY[:10])
        await asyncio.sleep(0.3)

        process.send_signal(signal.SIGTERM)
        await asyncio.sleep(DELAY + 1)  # past the delay: the listener has closed
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        idle.settimeout(2)
        assert idle.recv(1) == b""  # the idle keep-alive connection was closed

        uploading.sendall(BODY[10:])
        answered_at = time.monotonic()
        answer = _read_answer(uploading)
        head = answer.split(b"\r\n\r\n")[0].lower()
        # No client authentication: 401 invalid_client, proof that the body was read and parsed.
        assert head.startswith(b"http/1.1 401") and b"connection: close" in head, answer[:300]
        process.wait(timeout=5)
        assert time.monotonic() - answered_at < 5  # not the rest of the grace
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
