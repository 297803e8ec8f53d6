"""Everything the token service opens, each in one ``cleanup_ctx`` generator (opened in
order at start, closed in reverse at shutdown). Nothing is connected at import time."""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator

from aiohttp import web

from shared.db import connect, create_pool
from shared.keyring import ensure_active_key
from shared.redis_client import create_redis
from shared.stores.pg_audit import PgAudit
from shared.stores.pg_clients import CachedClients, PgClients
from shared.stores.pg_code_redemptions import PgCodeRedemptions
from shared.stores.pg_refresh_tokens import PgRefreshTokens
from shared.stores.redis_codes import RedisCodeStore
from shared.stores.redis_denylist import RedisDenylist
from services.token.core.context import GrantPorts
from services.token.core.issuer import TokenIssuer
from services.token.key_rotation import poll_keys, refresh_keys, rotate_keys
from services.token.keys import (
    AUDIT, CLIENTS, DENYLIST, GRANT_PORTS, KEY_CACHE, POOL, REDIS, REFRESH_TOKENS, SETTINGS, SWEEPER,
)
from services.token.signing_keys import KeyCache
from services.token.sweeps import GrantSweeper, sweep_redemptions


async def postgres(app: web.Application) -> AsyncIterator[None]:
    pool = await create_pool(app[SETTINGS])
    app[POOL] = pool
    app[CLIENTS] = CachedClients(PgClients(pool), app[SETTINGS].client_cache_ttl)
    app[AUDIT] = PgAudit(pool)
    app[REFRESH_TOKENS] = PgRefreshTokens(pool)
    yield
    await pool.close()


async def redis(app: web.Application) -> AsyncIterator[None]:
    client = create_redis(app[SETTINGS])
    app[REDIS] = client
    app[DENYLIST] = RedisDenylist(client, app[SETTINGS].redis_prefix, leeway=app[SETTINGS].clock_leeway)
    yield
    await client.aclose()


async def signing_keys(app: web.Application) -> AsyncIterator[None]:
    """Loads (creating on first start) the keys, then keeps them current in the background."""
    settings = app[SETTINGS]
    conn = await connect(settings)
    try:
        await ensure_active_key(conn, settings)
    finally:
        await conn.close()
    cache = KeyCache(settings.require_key_encryption_key())
    await refresh_keys(cache, app[POOL])
    app[KEY_CACHE] = cache
    wake = asyncio.Event()
    tasks = [asyncio.create_task(poll_keys(cache, app[POOL], settings.key_poll_interval, wake)),
             asyncio.create_task(rotate_keys(settings, wake))]
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def grants(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    sweeper = GrantSweeper(app[REFRESH_TOKENS], app[DENYLIST])
    redemptions = PgCodeRedemptions(app[POOL])
    app[SWEEPER] = sweeper
    app[GRANT_PORTS] = GrantPorts(
        settings=settings, codes=RedisCodeStore(app[REDIS], settings.redis_prefix),
        refresh_tokens=app[REFRESH_TOKENS], denylist=app[DENYLIST], audit=app[AUDIT],
        issuer=TokenIssuer(settings, app[KEY_CACHE]), resweep=sweeper.schedule, redemptions=redemptions,
    )
    expiring = asyncio.create_task(sweep_redemptions(redemptions, settings.code_redemption_sweep_interval))
    yield
    expiring.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await expiring
    await sweeper.close()


CLEANUP_CONTEXTS = (postgres, redis, signing_keys, grants)
