"""A private Redis primary, one replica and three sentinels on spare loopback ports.

Never the machine's Redis: every server lives in one temporary directory and is stopped and
removed at the end. Start it from the main thread (the children die with the thread that
forked them, see shared.devstack.supervise).

The failover bound: a sentinel marks the primary subjectively down after DOWN_AFTER_MS without
a valid reply, a quorum (2 of 3) agrees, one is elected leader and sends REPLICAOF NO ONE to
the replica, and the others learn the new primary within a second or so. Measured on loopback
it takes DOWN_AFTER_MS plus one to two seconds (the scale test prints it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from shared.devstack import Child, find_redis_server, spare_port, spawn
from shared.devstack.ports import LOOPBACK
from shared.devstack.supervise import wait_ready

SERVICE = "latchkey"
QUORUM = 2
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 5000


class SentinelGroup:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._binary = find_redis_server()
        self.primary_port, self.replica_port = spare_port(), spare_port()
        self.sentinel_ports = [spare_port() for _ in range(3)]
        self.servers: dict[int, Child] = {}

    def start(self) -> None:
        self._start_server(self.primary_port)
        self._start_server(self.replica_port, "--replicaof", LOOPBACK, str(self.primary_port))
        self._wait_replica_synced()
        for port in self.sentinel_ports:
            self._start_sentinel(port)
        self._wait_sentinels_see_replica()

    @property
    def url(self) -> str:
        sentinels = ",".join(f"{LOOPBACK}:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{sentinels}/{SERVICE}/0"

    def client(self, port: int) -> redis.Redis:
        return redis.Redis(host=LOOPBACK, port=port, socket_connect_timeout=1, socket_timeout=5)

    def primary_address(self) -> tuple[str, int] | None:
        """Where the sentinels' majority says the primary is now."""
        seen: dict[tuple[str, int], int] = {}
        for port in self.sentinel_ports:
            with contextlib.suppress(redis.RedisError), self.client(port) as sentinel:
                answer = sentinel.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)
                if answer:
                    address = (answer[0].decode(), int(answer[1]))
                    seen[address] = seen.get(address, 0) + 1
        best = max(seen.items(), key=lambda item: item[1], default=None)
        return best[0] if best and best[1] >= QUORUM else None

    def cut_replication(self) -> None:
        """Stops the replica from receiving the primary's writes while leaving it eligible for
        promotion: it reconnects with a wrong password, which a primary without one refuses."""
        with self.client(self.replica_port) as replica:
            replica.config_set("masterauth", "not-the-password")
            replica.execute_command("CLIENT", "KILL", "TYPE", "master")
            deadline = time.monotonic() + 5
            while replica.info("replication").get("master_link_status") != "down":
                if time.monotonic() > deadline:
                    raise AssertionError("the replica's link to the primary did not go down")
                time.sleep(0.02)

    def kill_primary(self) -> None:
        """SIGKILL, as a crash would: nothing flushed, no goodbye to the clients."""
        child = self.servers.pop(self.primary_port)
        os.kill(child.pid, signal.SIGKILL)
        child.stop()  # reaps

    def wait_promoted(self, timeout: float = 30.0) -> float:
        """Seconds until the sentinels' majority names the replica as primary."""
        started = time.monotonic()
        while self.primary_address() != (LOOPBACK, self.replica_port):
            if time.monotonic() - started > timeout:
                raise AssertionError(f"no failover to the replica within {timeout:.0f} s")
            time.sleep(0.05)
        return time.monotonic() - started

    def stop(self) -> None:
        for child in self.servers.values():
            child.stop()
        self.servers.clear()

    def _start_server(self, port: int, *extra: str) -> None:
        work = self._root / str(port)
        work.mkdir()
        argv: list[str | os.PathLike[str]] = [
            self._binary, "--bind", LOOPBACK, "--port", str(port), "--dir", work, "--daemonize", "no",
            "--save", "", "--appendonly", "no", "--logfile", "", *extra]
        self._spawn(port, argv, work)

    def _start_sentinel(self, port: int) -> None:
        work = self._root / f"sentinel-{port}"
        work.mkdir()
        config = work / "sentinel.conf"  # a sentinel rewrites its config file: it must be writable
        config.write_text(
            f"bind {LOOPBACK}\nport {port}\ndir {work}\nlogfile \"\"\n"
            f"sentinel monitor {SERVICE} {LOOPBACK} {self.primary_port} {QUORUM}\n"
            f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {SERVICE} 1\n")
        self._spawn(port, [str(self._binary), config, "--sentinel"], work)

    def _spawn(self, port: int, argv: list[str | os.PathLike[str]], work: Path) -> None:
        child = spawn(f"redis-{port}", argv, log_path=work / "server.log", cwd=work)
        self.servers[port] = child
        wait_ready(child, lambda: self._ping(port), f"Redis on {LOOPBACK}:{port}", 15)

    def _ping(self, port: int) -> str | None:
        try:
            with self.client(port) as client:
                client.ping()
        except redis.RedisError as exc:
            return f"{type(exc).__name__}: {exc}"
        return None

    def _wait_replica_synced(self) -> None:
        deadline = time.monotonic() + 15
        with self.client(self.replica_port) as replica:
            while replica.info("replication").get("master_link_status") != "up":
                if time.monotonic() > deadline:
                    raise AssertionError("the replica did not sync with the primary")
                time.sleep(0.05)

    def _wait_sentinels_see_replica(self) -> None:
        deadline = time.monotonic() + 20
        for port in self.sentinel_ports:
            with self.client(port) as sentinel:
                while True:
                    replicas = sentinel.execute_command("SENTINEL", "REPLICAS", SERVICE)
                    others = sentinel.execute_command("SENTINEL", "SENTINELS", SERVICE)
                    if replicas and len(others) == len(self.sentinel_ports) - 1:
                        break
                    if time.monotonic() > deadline:
                        raise AssertionError(f"sentinel {port} did not discover the replica and its peers")
                    time.sleep(0.1)


@contextlib.contextmanager
def sentinel_group() -> Iterator[SentinelGroup]:
    root = Path(tempfile.mkdtemp(prefix="latchkey-sentinel-"))
    group = SentinelGroup(root)
    try:
        group.start()
        yield group
    finally:
        group.stop()
        shutil.rmtree(root, ignore_errors=True)
