"""Run the real `latchkey` console script as a subprocess against a database of its own."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from tests.support.databases import fresh_database

LATCHKEY = Path(sys.executable).parent / "latchkey"
TABLES = ("clients", "users", "signing_keys", "refresh_tokens", "consents", "audit_events")


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


Run = Callable[..., Awaitable[Result]]


async def run_latchkey(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    proc = await asyncio.create_subprocess_exec(
        str(LATCHKEY), *args, env=env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin is not None else b""), timeout=60)
    assert proc.returncode is not None  # communicate() returns once the process has exited
    return Result(proc.returncode, out.decode(), err.decode())


@pytest.fixture(scope="module")
async def cli_db(server_urls) -> AsyncIterator[str]:
    """A migrated database only these tests write to, so "nothing was written" is checkable."""
    async with fresh_database(server_urls[0]) as url:
        yield url


@pytest.fixture(scope="module")
def cli_env(test_env, cli_db) -> dict[str, str]:
    # Only PATH from the outside: no stray LATCHKEY_* variable of the developer's shell leaks in.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **test_env, "DATABASE_URL": cli_db}


@pytest.fixture
def latchkey(cli_env) -> Run:
    async def run(*args: str, stdin: str | None = None, env: dict[str, str | None] | None = None) -> Result:
        merged = {**cli_env, **(env or {})}
        return await run_latchkey({k: v for k, v in merged.items() if v is not None}, *args, stdin=stdin)

    return run


@pytest.fixture
async def db(cli_db) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(cli_db)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def row_counts(db) -> Callable[[], Awaitable[dict[str, int]]]:
    """Rows per table, to show that a failed command wrote nothing."""
    async def counts() -> dict[str, int]:
        return {t: await db.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}

    return counts
