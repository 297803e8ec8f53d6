"""The verifier as an aiohttp ``cleanup_ctx`` resource: HTTP session, JWKS cache, denylist."""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator, Callable

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from shared.bearer.http_jwks import HttpJwksFetcher
from shared.bearer.jwks import JwksCache
from shared.bearer.middleware import BEARER_VERIFIER
from shared.bearer.revocation import BatchedDenylistCheck
from shared.bearer.token import VerifierPolicy
from shared.bearer.verifier import BearerVerifier
from shared.config import Settings
from shared.stores.redis_denylist import RedisDenylist


def jwks_cache(session: aiohttp.ClientSession, settings: Settings, url: str | None = None) -> JwksCache:
    fetcher = HttpJwksFetcher(session, url or settings.trusted_jwks_url, timeout=settings.jwks_fetch_timeout,
                              max_bytes=settings.jwks_max_bytes)
    return JwksCache(fetcher, algorithms=frozenset(settings.bearer_algs), cooldown=settings.jwks_refetch_cooldown,
                     default_max_age=settings.jwks_max_age, max_age_cap=settings.jwks_cache_cap,
                     max_stale=settings.jwks_cache_cap)


def bearer_context(settings: Settings, *, redis_key: web.AppKey[Redis] | None = None
                   ) -> Callable[[web.Application], AsyncIterator[None]]:
    """Sets ``app[BEARER_VERIFIER]``. With ``redis_key`` (a client opened by an earlier
    cleanup_ctx) and ``settings.check_revocation``, revoked jtis are refused.
    """

    async def context(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as session:
            cache = jwks_cache(session, settings)
            denylist = None
            if redis_key is not None and settings.check_revocation:
                denylist = BatchedDenylistCheck(RedisDenylist(app[redis_key], settings.redis_prefix))
            app[BEARER_VERIFIER] = BearerVerifier(VerifierPolicy.from_settings(settings), cache, denylist)
            # Warm the cache without holding up start-up when the token service is not up yet.
            priming = asyncio.create_task(cache.prime())
            try:
                yield
            finally:
                priming.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await priming
                await cache.close()
                if denylist is not None:
                    await denylist.close()

    return context
