"""What a management command runs against: one PostgreSQL connection and one Redis client,
closed when the command ends."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping

from shared.config import Settings
from shared.db import connect
from shared.management.backends import Backends
from shared.redis_client import create_redis


@contextlib.asynccontextmanager
async def backends(env: Mapping[str, str]) -> AsyncIterator[Backends]:
    settings = Settings.from_env(env)
    conn = await connect(settings)
    redis = create_redis(settings)
    try:
        yield Backends(conn, redis, settings)
    finally:
        await redis.aclose()
        await conn.close()
