"""A private three-node Redis Cluster (primaries only) on spare loopback ports.

Slots are assigned with CLUSTER ADDSLOTS and the nodes introduced with CLUSTER MEET, so
no redis-cli is needed. Never the machine's Redis; everything lives in one temporary directory.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from shared.devstack import Child, find_redis_server, port_is_free, spare_port, spawn
from shared.devstack.ports import LOOPBACK
from shared.devstack.supervise import wait_ready

SLOTS = 16384
BUS_OFFSET = 10000  # each node also listens on its port + 10000 for the cluster bus


class RedisClusterGroup:
    def __init__(self, root: Path, nodes: int = 3) -> None:
        self._root = root
        self.ports = [_cluster_port() for _ in range(nodes)]
        self._children: list[Child] = []

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"{LOOPBACK}:{port}" for port in self.ports)

    def client(self, port: int) -> redis.Redis:
        return redis.Redis(host=LOOPBACK, port=port, socket_connect_timeout=1, socket_timeout=5)

    def start(self) -> None:
        binary = find_redis_server()
        for port in self.ports:
            work = self._root / str(port)
            work.mkdir()
            child = spawn(f"redis-cluster-{port}", [
                binary, "--bind", LOOPBACK, "--port", str(port), "--dir", work, "--daemonize", "no",
                "--save", "", "--appendonly", "no", "--logfile", "", "--cluster-enabled", "yes",
                "--cluster-config-file", work / "nodes.conf", "--cluster-node-timeout", "2000",
            ], log_path=work / "server.log", cwd=work)
            self._children.append(child)
            wait_ready(child, functools.partial(self._ping, port), f"Redis on {LOOPBACK}:{port}", 15)
        share = SLOTS // len(self.ports)
        for index, port in enumerate(self.ports):
            last = SLOTS - 1 if index == len(self.ports) - 1 else (index + 1) * share - 1
            with self.client(port) as node:
                node.execute_command("CLUSTER", "ADDSLOTS", *range(index * share, last + 1))  # 6.2: no ADDSLOTSRANGE
                if index:
                    node.execute_command("CLUSTER", "MEET", LOOPBACK, self.ports[0])
        deadline = time.monotonic() + 20
        for port in self.ports:
            with self.client(port) as node:
                while not self._settled(node.cluster("info")):
                    if time.monotonic() > deadline:
                        raise AssertionError(f"cluster node {port} did not reach cluster_state:ok")
                    time.sleep(0.1)

    def _settled(self, info: dict[str, str]) -> bool:
        """This node knows every node and every slot, and says the cluster is ok."""
        return (info.get("cluster_state") == "ok" and int(info.get("cluster_known_nodes", 0)) == len(self.ports)
                and int(info.get("cluster_slots_ok", 0)) == SLOTS)

    def stop(self) -> None:
        for child in self._children:
            child.stop()
        self._children.clear()

    def _ping(self, port: int) -> str | None:
        try:
            with self.client(port) as client:
                client.ping()
        except redis.RedisError as exc:
            return f"{type(exc).__name__}: {exc}"
        return None


def _cluster_port() -> int:
    """A spare port whose cluster bus port (port + 10000, at most 65535) is spare too."""
    while True:
        port = spare_port()
        if port + BUS_OFFSET <= 65535 and port_is_free(port + BUS_OFFSET):
            return port


@contextlib.contextmanager
def redis_cluster() -> Iterator[RedisClusterGroup]:
    root = Path(tempfile.mkdtemp(prefix="latchkey-cluster-"))
    group = RedisClusterGroup(root)
    try:
        group.start()
        yield group
    finally:
        group.stop()
        shutil.rmtree(root, ignore_errors=True)
