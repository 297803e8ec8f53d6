"""Versioned SQL migrations (`latchkey migrate`).

Plain SQL files ``NNNN_name.sql`` in shared/migrations, applied in order, each in its own
transaction and recorded in ``schema_migrations``. A session-level advisory lock serialises
replicas that migrate at once; re-running applies nothing.

A file whose first line is ``-- latchkey: no transaction`` runs statement by statement outside
any transaction (each statement ends a line with ``;``), for ``CREATE INDEX CONCURRENTLY``: an
index built on a large live table without blocking its writes while it builds. Such a file
must be safe to run again from the start, since it is recorded only once every statement has
succeeded (``DROP INDEX CONCURRENTLY IF EXISTS`` first removes an index a failed build left
invalid).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

# Arbitrary but fixed: every Latchkey replica must use the same lock id.
MIGRATION_LOCK_ID = 0x4C41_5443_484B_4559 & 0x7FFF_FFFF_FFFF_FFFF
_FILENAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
NO_TRANSACTION = "-- latchkey: no transaction"
LOCK_POLL_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def transactional(self) -> bool:
        return not self.sql.startswith(NO_TRANSACTION)

    def statements(self) -> list[str]:
        """The statements one by one: each ends a line with ``;`` (comment lines are left out)."""
        found, current = [], []
        for line in self.sql.splitlines():
            if line.strip().startswith("--") or not line.strip():
                continue
            current.append(line)
            if line.rstrip().endswith(";"):
                found.append("\n".join(current))
                current = []
        if current:
            found.append("\n".join(current))
        return found


def available_migrations() -> list[Migration]:
    found = []
    for entry in resources.files("shared.migrations").iterdir():
        match = _FILENAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


async def migrate(conn: asyncpg.Connection) -> list[Migration]:
    """Apply what is missing; returns the migrations applied by this call."""
    # Polled rather than waited for: a session blocked in pg_advisory_lock() is inside a
    # statement, holding a snapshot, and CREATE INDEX CONCURRENTLY in the session holding the
    # lock waits for every older snapshot to go away: the two would deadlock.
    while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK_ID):
        await asyncio.sleep(LOCK_POLL_SECONDS)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version    integer PRIMARY KEY,
                   name       text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        applied = []
        for migration in available_migrations():
            if migration.version in done:
                continue
            if migration.transactional:
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await _record(conn, migration)
            else:
                for statement in migration.statements():  # one by one: several in one string are one transaction
                    await conn.execute(statement)
                await _record(conn, migration)
            applied.append(migration)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)


async def _record(conn: asyncpg.Connection, migration: Migration) -> None:
    await conn.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                       migration.version, migration.name)
