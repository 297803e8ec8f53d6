"""Everything the admin service opens, each in one ``cleanup_ctx`` generator (opened in order at
start, closed in reverse at shutdown). Nothing is connected at import time.

The admin service keeps no caches: every answer reads PostgreSQL, so it shows a change at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from services.admin.app_keys import BACKENDS, POOL, RATE_LIMITER, REDIS, SETTINGS
from shared.management.backends import Backends
from shared.web.lifecycle import postgres, redis
from shared.web.rate_limits import Limits, RateLimiter


async def backends(app: web.Application) -> AsyncIterator[None]:
    """After the pool and Redis: the management operations run on both, the rate limits on Redis."""
    settings = app[SETTINGS]
    app[BACKENDS] = Backends(app[POOL], app[REDIS], settings)
    # Per admin token (by its name) and, for requests without a valid token, per address; the
    # admin API has no per-address limit for authenticated calls nor a per-token failure budget.
    limits = Limits(per_subject=settings.admin_rate_limit_token, per_address=0, failures_per_subject=0,
                    failures_per_address=settings.admin_rate_limit_ip_failures)
    app[RATE_LIMITER] = RateLimiter(app[REDIS], settings.redis_prefix, "admin", limits)
    yield


CLEANUP_CONTEXTS = (postgres, redis, backends)
