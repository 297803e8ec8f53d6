"""Everything the admin service opens, each in one ``cleanup_ctx`` generator (opened in order at
start, closed in reverse at shutdown). Nothing is connected at import time.

The admin service keeps no caches: every answer reads PostgreSQL, so it shows a change at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from services.admin.app_keys import BACKENDS, POOL, REDIS, SETTINGS
from shared.management.backends import Backends
from shared.web.lifecycle import postgres, redis


async def backends(app: web.Application) -> AsyncIterator[None]:
    """After the pool and Redis: the management operations run on both."""
    app[BACKENDS] = Backends(app[POOL], app[REDIS], app[SETTINGS])
    yield


CLEANUP_CONTEXTS = (postgres, redis, backends)
