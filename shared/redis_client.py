"""The redis.asyncio client: one pooled client per process, tied to the app lifecycle."""

from __future__ import annotations


from redis.asyncio import BlockingConnectionPool, Redis

from shared.config import Settings


def create_redis(settings: Settings) -> Redis:
    # Timeouts are explicit so an unreachable Redis fails a request instead of hanging it.
    # A blocking pool waits for a free connection under load rather than failing the request.
    pool = BlockingConnectionPool.from_url(
        settings.redis_url, max_connections=64, timeout=5, socket_timeout=5, socket_connect_timeout=5
    )
    return Redis(connection_pool=pool)
