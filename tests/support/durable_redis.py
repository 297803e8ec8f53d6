"""A private redis-server with an append-only file, for tests that make Redis lose writes.

Never the machine's Redis: its own port and directory. ``snapshot`` copies the data directory
(the AOF: `appendonlydir/` on Redis 7, `appendonly.aof` before), ``crash`` is kill -9, and
``restart(restore=True)`` starts it again from the snapshot, as a Redis that lost every write
after it would come back (the AOF's last unsynced second, or a replica promoted late).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import redis

from shared.devstack import find_redis_server, spare_port
from shared.devstack.ports import LOOPBACK
from shared.devstack.supervise import Child, spawn, wait_ready


class DurableRedis:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = spare_port()
        self._data = root / "data"
        self._snapshot = root / "snapshot"
        self._child: Child | None = None

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def start(self) -> None:
        self._data.mkdir(exist_ok=True)
        # fsync on every write, so a snapshot taken after a reply surely holds that write: the
        # loss is then exactly what the test restores away, not whatever the last second held.
        argv: list[str | Path] = [find_redis_server(), "--bind", LOOPBACK, "--port", str(self.port), "--dir",
                                  self._data, "--daemonize", "no", "--save", "", "--appendonly", "yes",
                                  "--appendfsync", "always", "--logfile", ""]
        self._child = spawn("redis", argv, log_path=self.root / "redis.log", cwd=self.root,
                            stop_signal=signal.SIGKILL)
        wait_ready(self._child, self._probe, f"private Redis on {LOOPBACK}:{self.port}", 15)

    def snapshot(self) -> None:
        shutil.rmtree(self._snapshot, ignore_errors=True)
        shutil.copytree(self._data, self._snapshot)

    def crash(self) -> None:
        """kill -9: nothing is flushed or rewritten on the way down."""
        if self._child is not None:
            self._child.stop()
            self._child = None

    def restart(self, *, restore: bool) -> None:
        """Starts again on the same port, from the snapshot (``restore``) or from nothing at all."""
        self.crash()
        shutil.rmtree(self._data)
        if restore:
            shutil.copytree(self._snapshot, self._data)
        self.start()

    def _probe(self) -> str | None:
        client = redis.Redis(host=LOOPBACK, port=self.port, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        except redis.RedisError as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            client.close()
        return None


@contextlib.contextmanager
def durable_redis() -> Iterator[DurableRedis]:
    root = Path(tempfile.mkdtemp(prefix="latchkey-aof-"))
    server = DurableRedis(root)
    try:
        server.start()
        yield server
    finally:
        server.crash()
        shutil.rmtree(root, ignore_errors=True)
