"""Reusable pieces for benchmarks: services as subprocesses, and a closed-loop load generator.

``serve`` starts ``python -m shared.cli.main serve <svc> --port P`` (uvloop, exactly as
`latchkey serve`) with a given environment and waits for /healthz. ``run_load`` (from
tests/bench/loadgen.py, re-exported here) drives a server from a separate process, so the
measuring client does not share the server's event loop or interpreter, with N connections
each sending its next request as soon as the last answer arrived, for D seconds after a
warm-up, and reports req/s, p50/p99 and the CPU both sides used. Each service's peak RSS is
printed (and recorded for `make bench`'s summary, see tests/bench/peak_rss.py) when it stops.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench import peak_rss
from tests.bench.loadgen import (  # re-exported (`X as X`): benchmarks import them from here
    FixedRequests as FixedRequests,
)
from tests.bench.loadgen import (
    LoadResult as LoadResult,
)
from tests.bench.loadgen import (
    RepeatRequest as RepeatRequest,
)
from tests.bench.loadgen import (
    Request as Request,
)
from tests.bench.loadgen import (
    RequestSource as RequestSource,
)
from tests.bench.loadgen import (
    combine as combine,
)
from tests.bench.loadgen import (
    fixed_requests as fixed_requests,
)
from tests.bench.loadgen import (
    format_result as format_result,
)
from tests.bench.loadgen import (
    process_cpu_seconds as process_cpu_seconds,
)
from tests.bench.loadgen import (
    repeat_request as repeat_request,
)
from tests.bench.loadgen import (
    run_load as run_load,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


# --- processes -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        value: int = s.getsockname()[1]
        return value


def wait_for_http(url: str, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode} before {url} answered")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f} s")


@contextlib.contextmanager
def subprocess_server(args: Sequence[str], env: Mapping[str, str], health_url: str,
                      log_path: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Starts a server process, waits until ``health_url`` answers 200, stops it on exit."""
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    process = subprocess.Popen([sys.executable, *args], env={**os.environ, **env}, cwd=REPO_ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_http(health_url, process=process)
        yield process
    finally:
        stop(process)
        if not isinstance(log, int):  # a file of ours, not DEVNULL
            log.close()


@dataclass(frozen=True)
class RunningServer:
    url: str
    pid: int

    def __str__(self) -> str:
        return self.url


def stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM, and SIGKILL if it has not exited within 10 s (a graceful stop, then a sure one)."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def serve(service: str, env: Mapping[str, str], port: int | None = None,
          log_path: Path | None = None) -> Iterator[RunningServer]:
    """Runs `latchkey serve <service>` until the block ends; yields its URL and pid."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["-m", "shared.cli.main", "serve", service, "--host", "127.0.0.1", "--port", str(port)]
    with subprocess_server(args, env, f"{base}/healthz", log_path) as process:
        try:
            yield RunningServer(base, process.pid)
        finally:
            peak_rss.record(service, process.pid)  # while it still runs: /proc forgets it after


@contextlib.contextmanager
def serve_module(module: str, env: Mapping[str, str], port: int | None = None,
                 log_path: Path | None = None) -> Iterator[RunningServer]:
    """Runs ``python -m <module> --port P`` (e.g. a floor handler); it must answer /healthz."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    with subprocess_server(["-m", module, "--port", str(port)], env, f"{base}/healthz", log_path) as process:
        yield RunningServer(base, process.pid)


# --- a private deployment ------------------------------------------------------------------

@dataclass(frozen=True)
class BenchStack:
    """A fresh database and Redis prefix, the env a service needs for them, and open clients."""

    env: dict[str, str]
    settings: Any
    pool: Any
    redis: Any


@contextlib.asynccontextmanager
async def bench_stack(admin_url: str, redis_url: str, **extra_env: str) -> AsyncIterator[BenchStack]:
    """Everything a benchmark writes lives in its own database and key prefix, removed at the end."""
    import base64
    import secrets

    from shared.config import Settings
    from shared.db import create_pool
    from shared.redis_client import create_redis
    from tests.support.databases import fresh_database
    from tests.support.redis_keys import delete_prefix

    async with fresh_database(admin_url) as database_url:
        prefix = f"latchkey-bench:{secrets.token_hex(4)}:"
        env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "LATCHKEY_REDIS_PREFIX": prefix,
               "LATCHKEY_DEV": "1", "LATCHKEY_KEY_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
               # One client from one address at full speed is what a benchmark is, and what a
               # rate limit refuses: measure the service, not the limit.
               "LATCHKEY_RATE_LIMIT_PER_CLIENT": "0", "LATCHKEY_RATE_LIMIT_PER_IP": "0",
               **extra_env}
        settings = Settings.from_env(env)
        pool, redis = await create_pool(settings), create_redis(settings)
        try:
            yield BenchStack(env, settings, pool, redis)
        finally:
            await delete_prefix(redis, prefix)
            await redis.aclose()
            await pool.close()


def servers_from_env(benchmark: str) -> tuple[str, str] | None:
    """DATABASE_URL and REDIS_URL (`make bench` sets both); None after saying what is missing."""
    admin_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not admin_url or not redis_url:
        print(f"{benchmark}: set DATABASE_URL and REDIS_URL (or run `make bench`)", file=sys.stderr)
        return None
    return admin_url, redis_url
