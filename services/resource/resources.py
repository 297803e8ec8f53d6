"""Everything the resource service opens, each in one ``cleanup_ctx`` generator (opened in
order at start, closed in reverse at shutdown). Nothing is connected at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from services.resource.app_keys import CLIENTS, METRICS, NOTES, POOL, PROFILES, REDIS, SETTINGS
from services.resource.profiles import CachedProfiles
from shared.bearer import bearer_context
from shared.stores.client_changes import watching
from shared.stores.pg_clients import CachedClients, PgClients
from shared.stores.pg_notes import PgNotes
from shared.stores.pg_users import PgUsers
from shared.web.lifecycle import postgres, redis


async def stores(app: web.Application) -> AsyncIterator[None]:
    settings, pool = app[SETTINGS], app[POOL]
    app[NOTES] = PgNotes(pool)
    app[PROFILES] = CachedProfiles(PgUsers(pool), settings.userinfo_cache_ttl, settings.userinfo_cache_size)
    app[CLIENTS] = CachedClients(PgClients(pool), settings.client_cache_ttl)
    async with watching(app[CLIENTS], app[REDIS], settings.redis_prefix, settings.client_change_poll):
        yield


async def bearer(app: web.Application) -> AsyncIterator[None]:
    """The verifier; after Redis, whose client its denylist check (settings.check_revocation) uses."""
    metrics = app[METRICS]
    context = bearer_context(app[SETTINGS].bearer_config(), redis_key=REDIS,
                             on_refused=metrics.bearer_token_refused, on_jwks_fetch=metrics.jwks_fetched)
    async for _ in context(app):
        yield


CLEANUP_CONTEXTS = (postgres, redis, stores, bearer)
