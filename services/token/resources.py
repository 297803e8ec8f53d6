"""Everything the token service opens, each in one ``cleanup_ctx`` generator (opened in
order at start, closed in reverse at shutdown). Nothing is connected at import time."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from services.token.app_keys import (
    APIS,
    AUDIT,
    CLIENTS,
    DENYLIST,
    GRANT_CONTEXT,
    KEY_CACHE,
    METRICS,
    POOL,
    RATE_LIMITER,
    REDIS,
    REFRESH_TOKENS,
    SETTINGS,
    SWEEPER,
)
from services.token.backchannel_logout import LogoutDeliverer
from services.token.core.context import GrantContext
from services.token.core.issuer import TokenIssuer
from services.token.key_cache import KeyCache, KeyRingCollector
from services.token.key_rotation import poll_keys, refresh_keys, rotate_keys
from services.token.pending_revocations import complete_pending_revocations
from services.token.sweeps import GrantSweeper, sweep_redemptions
from shared.bearer.tasks import stop_tasks
from shared.db import connect
from shared.keyring import ensure_active_key
from shared.logout.announce import announce_deferred
from shared.logout.queue import LogoutQueue
from shared.management.backends import Backends
from shared.management.cutoffs import end_sessions
from shared.stores.client_changes import watching
from shared.stores.pg_apis import CachedApis, PgApis
from shared.stores.pg_audit import PgAudit
from shared.stores.pg_clients import CachedClients, PgClients
from shared.stores.pg_code_redemptions import PgCodeRedemptions
from shared.stores.pg_pending_cutoffs import PgPendingCutoffs
from shared.stores.pg_pending_revocations import PgPendingRevocations
from shared.stores.pg_refresh_tokens import PgRefreshTokens
from shared.stores.redis_codes import RedisCodeStore
from shared.stores.redis_denylist import RedisDenylist
from shared.web.lifecycle import postgres, redis
from shared.web.rate_limits import Limits, RateLimiter


async def stores(app: web.Application) -> AsyncIterator[None]:
    settings, pool, client = app[SETTINGS], app[POOL], app[REDIS]
    app[CLIENTS] = CachedClients(PgClients(pool), settings.client_cache_ttl)
    app[APIS] = CachedApis(PgApis(pool), settings.client_cache_ttl)
    app[AUDIT] = PgAudit(pool, on_record=app[METRICS].audit_recorded)
    app[REFRESH_TOKENS] = PgRefreshTokens(pool, leeway=settings.clock_leeway)
    app[DENYLIST] = RedisDenylist(client, settings.redis_prefix, leeway=settings.clock_leeway,
                                  replicas=settings.revocation_replicas, wait_ms=settings.revocation_wait_ms)
    # One budget for /token, /revoke and /introspect: the scope names the service, not the path.
    app[RATE_LIMITER] = RateLimiter(client, settings.redis_prefix, "token", Limits.from_settings(settings))
    async with watching(app[CLIENTS], client, settings.redis_prefix, settings.client_change_poll):
        yield


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
    app[METRICS].live.register(KeyRingCollector(cache))
    wake = asyncio.Event()
    tasks = [asyncio.create_task(poll_keys(cache, app[POOL], settings.key_poll_interval, wake)),
             asyncio.create_task(rotate_keys(settings, wake))]
    yield
    await stop_tasks(*tasks)


async def grants(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    sweeper = GrantSweeper(app[REFRESH_TOKENS], app[DENYLIST])
    redemptions = PgCodeRedemptions(app[POOL])
    app[SWEEPER] = sweeper
    app[GRANT_CONTEXT] = GrantContext(
        settings=settings, codes=RedisCodeStore(app[REDIS], settings.redis_prefix),
        refresh_tokens=app[REFRESH_TOKENS], denylist=app[DENYLIST], audit=app[AUDIT],
        issuer=TokenIssuer(settings, app[KEY_CACHE]), resweep=sweeper.schedule, redemptions=redemptions,
        metrics=app[METRICS],
        apis=app[APIS],
    )
    # Revocations that could not reach Redis (here or on another replica) are finished later;
    # redemption rows past the replay window are deleted.
    tasks = [asyncio.create_task(complete_pending_revocations(
                 PgPendingRevocations(app[POOL], leeway=settings.clock_leeway), PgPendingCutoffs(app[POOL]),
                 app[DENYLIST], functools.partial(end_sessions, Backends(app[POOL], app[REDIS], settings)),
                 settings.revocation_retry)),
             asyncio.create_task(sweep_redemptions(redemptions, settings.code_redemption_sweep_interval))]
    yield
    await stop_tasks(*tasks)
    await sweeper.close()
    await redemptions.close()


async def backchannel_logouts(app: web.Application) -> AsyncIterator[None]:
    """Delivers the logout tokens sign-outs queue (services.token.backchannel_logout)."""
    settings = app[SETTINGS]
    # One pooled client for every relying party; per-request timeouts are set per POST.
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=settings.backchannel_logout_concurrency),
                                 trust_env=False)
    deliverer = LogoutDeliverer(settings, LogoutQueue(app[REDIS], settings.redis_prefix), app[CLIENTS],
                                app[KEY_CACHE], app[AUDIT], app[METRICS], http,
                                functools.partial(announce_deferred, Backends(app[POOL], app[REDIS], settings)))
    task = asyncio.create_task(deliverer.run())
    yield
    await stop_tasks(task)
    await deliverer.close()
    await http.close()


CLEANUP_CONTEXTS = (postgres, redis, stores, signing_keys, grants, backchannel_logouts)
