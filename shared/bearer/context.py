"""The verifier as an aiohttp ``cleanup_ctx`` resource: HTTP session, JWKS cache, denylist."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from .config import BearerConfig
from .http_jwks import HttpJwksFetcher
from .jwks import JwksCache
from .middleware import BEARER_VERIFIER
from .revocation import BatchedDenylistCheck, RedisDenylistReader
from .tasks import stop_tasks
from .token import VerifierPolicy
from .verifier import BearerVerifier

if TYPE_CHECKING:
    from redis.asyncio import Redis  # only with the redis extra


def jwks_cache(session: aiohttp.ClientSession, config: BearerConfig, url: str | None = None, *,
               on_fetch: Callable[[bool], None] | None = None) -> JwksCache:
    fetcher = HttpJwksFetcher(session, url or config.jwks_url, timeout=config.jwks_fetch_timeout,
                              max_bytes=config.jwks_max_bytes)
    return JwksCache(fetcher, algorithms=frozenset(config.algorithms), cooldown=config.jwks_refetch_cooldown,
                     default_max_age=config.jwks_default_max_age, max_age_cap=config.jwks_cache_cap,
                     max_stale=config.jwks_cache_cap, on_fetch=on_fetch)


def bearer_context(config: BearerConfig, *, redis_key: web.AppKey[Redis] | None = None,
                   on_refused: Callable[[str], None] | None = None,
                   on_jwks_fetch: Callable[[bool], None] | None = None,
                   ) -> Callable[[web.Application], AsyncIterator[None]]:
    """Sets ``app[BEARER_VERIFIER]``. With ``redis_key`` (a client opened by an earlier
    cleanup_ctx) and ``config.check_revocation``, revoked jtis are refused. The hooks are told
    of every refused token (its reason key) and every JWKS fetch (ok or not): metrics.
    """

    async def context(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as session:
            cache = jwks_cache(session, config, on_fetch=on_jwks_fetch)
            denylist = None
            if redis_key is not None and config.check_revocation:
                denylist = BatchedDenylistCheck(RedisDenylistReader(app[redis_key], config.redis_prefix))
            app[BEARER_VERIFIER] = BearerVerifier(VerifierPolicy.from_config(config), cache, denylist,
                                                    on_refused=on_refused, remember=config.verified_token_cache_size)
            # Warm the cache without holding up start-up when the token service is not up yet.
            priming = asyncio.create_task(cache.prime())
            try:
                yield
            finally:
                await stop_tasks(priming)
                await cache.close()
                if denylist is not None:
                    await denylist.close()

    return context
