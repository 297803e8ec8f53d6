"""Private Redis and PostgreSQL servers that a fault test may kill and restart.

Never the machine's servers (other test runs use them): each lives in its own temporary
directory on a spare loopback port, is restarted on the same port (clients keep their URL and
their now-stale pooled connections), and is stopped and removed at the end. Start and restart
from the main thread: the servers die with the thread that forked them (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

from shared.devstack import spare_port, start_postgres, start_redis
from shared.devstack.postgres import EmbeddedPostgres
from shared.devstack.redis_server import EmbeddedRedis


class RestartableRedis:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._server: EmbeddedRedis | None = start_redis(root, spare_port())
        self.port = self._server.port

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        """SIGKILL, as a crash would: no goodbye to the clients, nothing persisted."""
        if self._server is not None:
            os.kill(self._server.pid, signal.SIGKILL)
            self._server.stop()  # reaps
            self._server = None

    def start(self) -> None:
        """Back on the same port; returns once it answers PING."""
        if self._server is None:
            self._server = start_redis(self._root, self.port)

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


class RestartablePostgres:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._server: EmbeddedPostgres | None = start_postgres(root, spare_port())
        self.port = self._server.port
        self.dsn = self._server.dsn

    def stop_immediate(self) -> None:
        """SIGQUIT to the postmaster: `pg_ctl stop -m immediate` (no checkpoint, clients cut off)."""
        if self._server is not None:
            self._server.child.stop_signal = signal.SIGQUIT
            self._server.stop()
            self._server = None

    def start(self) -> None:
        """Back on the same port (crash recovery first); returns once it accepts connections."""
        if self._server is None:
            self._server = start_postgres(self._root, self.port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


@contextlib.contextmanager
def _scratch(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def private_redis() -> Iterator[RestartableRedis]:
    with _scratch("latchkey-fault-redis-") as root:
        server = RestartableRedis(root)
        try:
            yield server
        finally:
            server.stop()


@contextlib.contextmanager
def private_postgres() -> Iterator[RestartablePostgres]:
    with _scratch("latchkey-fault-pg-") as root:
        server = RestartablePostgres(root)
        try:
            yield server
        finally:
            server.stop()
