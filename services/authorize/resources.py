"""Every resource of the service, opened and closed with the app (aiohttp cleanup_ctx)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from services.authorize.app_keys import HASH_EXECUTOR, METRICS, PASSWORDS, POOL, REDIS, SETTINGS, STORES
from services.authorize.deps import Stores
from shared.crypto.passwords import Passwords
from shared.stores.client_changes import watching
from shared.stores.pg_apis import CachedApis, PgApis
from shared.stores.pg_audit import PgAudit
from shared.stores.pg_clients import CachedClients, PgClients
from shared.stores.pg_consents import PgConsents
from shared.stores.pg_signing_keys import PgSigningKeys
from shared.stores.pg_users import PgUsers
from shared.stores.redis_codes import RedisCodeStore
from shared.stores.redis_sessions import RedisSessions
from shared.stores.redis_throttle import RedisLoginThrottle
from shared.stores.redis_transactions import RedisTransactions
from shared.web.lifecycle import postgres, redis


async def hash_executor(app: web.Application) -> AsyncIterator[None]:
    """argon2 runs here, never on the event loop; the pool size bounds hashing memory."""
    settings = app[SETTINGS]
    app[HASH_EXECUTOR] = ThreadPoolExecutor(max_workers=settings.hash_workers, thread_name_prefix="argon2")
    yield
    app[HASH_EXECUTOR].shutdown(wait=True, cancel_futures=True)


async def stores(app: web.Application) -> AsyncIterator[None]:
    settings, pool, client = app[SETTINGS], app[POOL], app[REDIS]
    prefix = settings.redis_prefix
    # The decoy hash costs one argon2 run: do it off the loop too.
    app[PASSWORDS] = await asyncio.get_running_loop().run_in_executor(app[HASH_EXECUTOR], functools.partial(
        Passwords, app[HASH_EXECUTOR], time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib, parallelism=settings.argon2_parallelism))
    clients = CachedClients(PgClients(pool), settings.client_cache_ttl)
    app[STORES] = Stores(
        clients=clients,
        apis=CachedApis(PgApis(pool), settings.client_cache_ttl),
        users=PgUsers(pool),
        consents=PgConsents(pool),
        codes=RedisCodeStore(client, prefix),
        sessions=RedisSessions(client, prefix),
        transactions=RedisTransactions(client, prefix),
        throttle=RedisLoginThrottle(client, prefix, max_per_user=settings.login_max_failures_user,
                                    max_per_ip=settings.login_max_failures_ip,
                                    max_in_flight_per_ip=settings.login_max_in_flight_ip,
                                    window=settings.login_failure_window),
        audit=PgAudit(pool, on_record=app[METRICS].audit_recorded),
        signing_keys=PgSigningKeys(pool),
    )
    async with watching(clients, client, prefix, settings.client_change_poll):
        yield


CLEANUP_CONTEXTS = (postgres, redis, hash_executor, stores)
