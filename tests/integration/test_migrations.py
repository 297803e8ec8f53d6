"""Versioned migrations on a real PostgreSQL: fresh, repeated, concurrent, failing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from shared import migrate as migrate_module
from shared.migrate import MIGRATION_LOCK_ID, Migration, available_migrations, migrate
from tests.support.databases import fresh_database

PARENT_INDEX = "indexrelid = 'refresh_tokens_parent'::regclass"
VALID = f"SELECT indisvalid FROM pg_index WHERE {PARENT_INDEX}"
TABLES = {"schema_migrations", "clients", "users", "signing_keys", "refresh_tokens", "consents", "audit_events"}


@pytest.fixture
async def empty_db(server_urls) -> AsyncIterator[str]:
    async with fresh_database(server_urls[0], migrated=False) as url:
        yield url


async def _recorded(conn: asyncpg.Connection) -> list[tuple[int, str]]:
    rows = await conn.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
    return [(r["version"], r["name"]) for r in rows]


async def _tables(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {r["tablename"] for r in rows}


def test_migration_files_are_numbered_from_one_without_gaps():
    versions = [m.version for m in available_migrations()]
    assert versions == list(range(1, len(versions) + 1))


async def test_fresh_database_gets_every_migration_recorded(empty_db):
    conn = await asyncpg.connect(empty_db)
    try:
        applied = await migrate(conn)
        assert [m.version for m in applied] == [m.version for m in available_migrations()]
        assert await _recorded(conn) == [(m.version, m.name) for m in available_migrations()]
        assert TABLES <= await _tables(conn)
    finally:
        await conn.close()


async def test_applying_twice_is_a_no_op(empty_db):
    conn = await asyncpg.connect(empty_db)
    try:
        await migrate(conn)
        before = await conn.fetch("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
        assert await migrate(conn) == []
        assert await conn.fetch("SELECT version, name, applied_at FROM schema_migrations ORDER BY version") == before
    finally:
        await conn.close()


async def test_two_concurrent_runs_both_succeed_and_apply_each_migration_once(empty_db):
    holder, first, second = [await asyncpg.connect(empty_db) for _ in range(3)]
    try:
        # Hold the lock so both runs are provably in flight together, then let them race.
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
        runs = asyncio.gather(migrate(first), migrate(second))
        await asyncio.sleep(0.3)
        assert not runs.done()  # both wait for the lock (polling it: see migrate)
        assert "schema_migrations" not in await _tables(holder)
        await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)
        applied_first, applied_second = await asyncio.wait_for(runs, timeout=30)
        versions = sorted(m.version for m in applied_first + applied_second)
        assert versions == [m.version for m in available_migrations()]
        assert [] in (applied_first, applied_second)
        assert await _recorded(holder) == [(m.version, m.name) for m in available_migrations()]
    finally:
        for conn in (holder, first, second):
            await conn.close()


async def test_a_failing_migration_is_rolled_back_and_releases_the_lock(empty_db, monkeypatch):
    broken = Migration(9999, "broken", "CREATE TABLE half_done (id int); SELECT no_such_function();")
    monkeypatch.setattr(migrate_module, "available_migrations", lambda: [*available_migrations(), broken])
    conn, other = await asyncpg.connect(empty_db), await asyncpg.connect(empty_db)
    try:
        with pytest.raises(asyncpg.UndefinedFunctionError):
            await migrate(conn)
        assert [v for v, _ in await _recorded(conn)] == [m.version for m in available_migrations()]
        assert "half_done" not in await _tables(conn)
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK_ID) is True
    finally:
        await conn.close()
        await other.close()


async def test_upgrading_to_per_algorithm_keys_keeps_existing_clients_on_rs256(empty_db, monkeypatch):
    """0003 on a database with data: the old client keeps RS256 ID tokens, its key keeps signing."""
    conn = await asyncpg.connect(empty_db)
    try:
        every = available_migrations()
        monkeypatch.setattr(migrate_module, "available_migrations", lambda: [m for m in every if m.version <= 2])
        await migrate(conn)
        await conn.execute("""INSERT INTO clients (client_id, name, secret_hash, redirect_uris, allowed_scopes,
                                                   token_endpoint_auth_method, is_public)
                              VALUES ('lk_old', 'Old App', 'h', '{https://old.example/cb}', '{openid}',
                                      'client_secret_basic', false)""")
        await conn.execute("""INSERT INTO signing_keys
                              (kid, alg, status, public_jwk, private_key_encrypted, activates_at)
                              VALUES ('old-kid', 'RS256', 'active', '{}', '\\x00', now())""")
        monkeypatch.setattr(migrate_module, "available_migrations", lambda: every)
        assert [m.version for m in await migrate(conn)] == [m.version for m in every if m.version > 2]
        alg = await conn.fetchval("SELECT id_token_signed_response_alg FROM clients WHERE client_id = 'lk_old'")
        assert alg == "RS256"
        assert await conn.fetchval("SELECT status FROM signing_keys WHERE kid = 'old-kid'") == "active"
    finally:
        await conn.close()


async def test_an_index_is_built_concurrently_while_the_table_takes_writes(empty_db, monkeypatch):
    """A no-transaction migration runs statement by statement outside a transaction, so
    CREATE INDEX CONCURRENTLY works and a write to the table during the build is not blocked."""
    every = available_migrations()
    concurrent = [m for m in every if not m.transactional]
    assert [m.name for m in concurrent] == ["refresh_token_parent"]
    assert concurrent[0].statements()[-1].startswith("CREATE INDEX CONCURRENTLY")
    conn, writer = await asyncpg.connect(empty_db), await asyncpg.connect(empty_db)
    try:
        monkeypatch.setattr(migrate_module, "available_migrations",
                            lambda: [m for m in every if m.version < concurrent[0].version])
        await migrate(conn)
        # A transaction that wrote to the table and is still open: a plain CREATE INDEX would wait
        # for it while blocking every other write; a concurrent build lets others write meanwhile.
        await writer.execute("BEGIN")
        await writer.execute("UPDATE refresh_tokens SET used_at = now() WHERE false")
        monkeypatch.setattr(migrate_module, "available_migrations", lambda: every)
        run = asyncio.create_task(migrate(conn))
        await asyncio.sleep(0.5)
        third = await asyncpg.connect(empty_db)
        try:
            await asyncio.wait_for(third.execute("UPDATE refresh_tokens SET used_at = now() WHERE false"), 2)
        finally:
            await third.close()
        await writer.execute("COMMIT")
        assert [m.version for m in await asyncio.wait_for(run, 30)][0] == concurrent[0].version
        assert await conn.fetchval(VALID) is True
    finally:
        await conn.close()
        await writer.close()


async def test_a_concurrent_build_that_failed_is_rebuilt_on_the_next_run(empty_db, monkeypatch):
    every = available_migrations()
    version = next(m.version for m in every if not m.transactional)
    conn = await asyncpg.connect(empty_db)
    try:
        monkeypatch.setattr(migrate_module, "available_migrations", lambda: [m for m in every if m.version < version])
        await migrate(conn)
        # What a failed concurrent build leaves: the index exists, marked invalid, and no record.
        await conn.execute("CREATE INDEX refresh_tokens_parent ON refresh_tokens (parent_id)")
        await conn.execute(f"UPDATE pg_index SET indisvalid = false WHERE {PARENT_INDEX}")
        monkeypatch.setattr(migrate_module, "available_migrations", lambda: every)
        assert version in [m.version for m in await migrate(conn)]
        assert await conn.fetchval(VALID) is True
    finally:
        await conn.close()
