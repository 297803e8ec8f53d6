"""The typed app keys every service has (aiohttp ``web.AppKey``): one name, one meaning.

Each service's own ``app_keys`` module re-exports these beside the keys only it uses.
"""

from __future__ import annotations

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

from shared.config import Settings
from shared.metrics import Metrics

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
REDIS = web.AppKey("redis", Redis)
METRICS = web.AppKey("metrics", Metrics)
