"""The asyncpg pool: one per process, opened and closed with the app (cleanup_ctx)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import asyncpg

from shared.config import Settings


class PostgresUnreachable(ConnectionError):
    """Nothing answered at DATABASE_URL: the message names where (never the password) and why,
    so the one line the CLI prints says what is wrong. Still an OSError: a store outage."""


def _unreachable(settings: Settings, exc: OSError) -> PostgresUnreachable:
    try:
        parts = urlsplit(settings.database_url)
        where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"
    except ValueError:
        where = "the configured address"
    return PostgresUnreachable(f"cannot reach PostgreSQL at {where} (DATABASE_URL): {type(exc).__name__}: {exc}")


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
    try:
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
    except OSError as exc:  # refused, unreachable, timed out (TimeoutError is an OSError)
        raise _unreachable(settings, exc) from exc


async def connect(settings: Settings) -> asyncpg.Connection:
    """A single connection, for the CLI."""
    try:
        conn = await asyncpg.connect(settings.database_url, timeout=10)
    except OSError as exc:
        raise _unreachable(settings, exc) from exc
    await _init_connection(conn)
    return conn
