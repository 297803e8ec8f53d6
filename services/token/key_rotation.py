"""Background tasks that keep the signing keys current (see shared.keyring for the life cycle).

``poll_keys`` re-reads the published keys every LATCHKEY_KEY_POLL_SECONDS (or at once when
woken) and hands them to the cache. ``rotate_keys`` runs the automatic schedule every
LATCHKEY_KEY_ROTATION_CHECK_SECONDS on its own connection: the advisory lock it takes is held
per session, so it must not be a pooled connection that another request could reuse.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from services.token.key_cache import KeyCache
from shared.config import Settings
from shared.db import connect
from shared.keyring import rotate_if_due
from shared.stores.pg_signing_keys import PgSigningKeys

log = logging.getLogger("latchkey.token.keys")


async def refresh_keys(cache: KeyCache, pool: asyncpg.Pool) -> bool:
    return await cache.load(await PgSigningKeys(pool).published())


async def _sleep_or_wake(wake: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(wake.wait(), timeout=seconds)
    except TimeoutError:
        pass
    wake.clear()


async def poll_keys(cache: KeyCache, pool: asyncpg.Pool, interval: int, wake: asyncio.Event) -> None:
    while True:
        await _sleep_or_wake(wake, interval)
        try:
            await refresh_keys(cache, pool)
        except Exception:
            # Keep signing with the keys we have; the next poll tries again.
            log.exception("could not refresh signing keys")


async def rotate_keys(settings: Settings, wake: asyncio.Event) -> None:
    conn: asyncpg.Connection | None = None
    try:
        while True:  # checks at once, so a key announced while we were down is promoted on start
            try:
                conn = conn if conn is not None and not conn.is_closed() else await connect(settings)
                if await rotate_if_due(conn, settings):
                    wake.set()
            except Exception:
                log.exception("key rotation check failed")
                if conn is not None:
                    conn.terminate()
                    conn = None
            await asyncio.sleep(settings.key_rotation_check)
    finally:
        if conn is not None:
            await conn.close()
