"""The resource service's app factory: ``create_app(settings)``; nothing connects at import."""

from __future__ import annotations

from typing import AsyncIterator

from aiohttp import web

from shared.bearer import bearer_context, bearer_middleware
from shared.config import Settings
from shared.db import create_pool
from shared.redis_client import create_redis
from shared.stores.pg_users import PgUsers
from shared.web.errors import json_error_middleware
from shared.web.security_headers import security_headers_middleware
from services.resource.notes_store import PgNotes
from services.resource.profiles import CachedProfiles
from services.resource.routes import PUBLIC_PATHS, route_table
from services.resource.state import NOTES, POOL, PROFILES, REDIS, SETTINGS


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[
            security_headers_middleware(https=settings.resource_url.startswith("https://")),
            json_error_middleware,
            bearer_middleware(public_paths=PUBLIC_PATHS),
        ],
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_database(settings))
    app.cleanup_ctx.append(_redis(settings))
    # After Redis: the verifier's denylist (when settings.check_revocation) uses the client opened above.
    app.cleanup_ctx.append(bearer_context(settings, redis_key=REDIS))
    app.add_routes(route_table())
    return app


def _database(settings: Settings):
    async def context(app: web.Application) -> AsyncIterator[None]:
        pool = await create_pool(settings)
        app[POOL], app[NOTES] = pool, PgNotes(pool)
        app[PROFILES] = CachedProfiles(PgUsers(pool), settings.userinfo_cache_ttl, settings.userinfo_cache_size)
        try:
            yield
        finally:
            await pool.close()

    return context


def _redis(settings: Settings):
    async def context(app: web.Application) -> AsyncIterator[None]:
        app[REDIS] = create_redis(settings)
        try:
            yield
        finally:
            await app[REDIS].aclose()

    return context
