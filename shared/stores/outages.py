"""Which exceptions mean "a store is down" rather than "a bug": answered temporarily_unavailable."""

from __future__ import annotations

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

STORE_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, server starting up
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.InterfaceError,  # pool closing, connection lost
    OSError,  # connection refused while the pool reconnects
    TimeoutError,  # pool acquire or command timeout
)
