"""The asyncpg pool: one per process, opened and closed with the app (cleanup_ctx)."""

from __future__ import annotations

import json

import asyncpg

from shared.config import Settings


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """What a pooled connection needs undone before reuse.

    asyncpg's default reset (RESET ALL, advisory unlock, UNLISTEN, ...) costs a round trip per
    query. Pooled connections never change session state, listen or take advisory locks (those
    use dedicated connections), so only a transaction left open by a cancelled request remains.
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_pool(settings: Settings) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        settings.database_url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        init=_init_connection,
        reset=_reset_connection,
        # Explicit limits: a stuck query or a stuck connect never hangs a request forever.
        timeout=10,
        command_timeout=10,
    )


async def connect(settings: Settings) -> asyncpg.Connection:
    """A single connection, for the CLI."""
    conn = await asyncpg.connect(settings.database_url, timeout=10)
    await _init_connection(conn)
    return conn
