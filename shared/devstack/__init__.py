"""Embedded PostgreSQL and Redis for `make run` and tests: real servers as supervised children.

Start them from the main thread (see supervise): on Linux each child dies with the thread
that started it.
"""

from shared.devstack.embedded import EmbeddedUrls, embedded_servers
from shared.devstack.errors import DevStackError, PortInUseError
from shared.devstack.ports import ensure_port_free, port_is_free, spare_port
from shared.devstack.postgres import (
                                      PG_PORT_ENV,
                                      EmbeddedPostgres,
                                      PostgresBinaries,
                                      find_postgres,
                                      postgres_binaries,
                                      start_postgres,
)
from shared.devstack.redis_server import REDIS_PORT_ENV, EmbeddedRedis, find_redis_server, start_redis
from shared.devstack.supervise import Child, Supervisor, spawn

__all__ = [
    "PG_PORT_ENV", "REDIS_PORT_ENV", "Child", "DevStackError", "EmbeddedPostgres", "EmbeddedRedis", "EmbeddedUrls",
    "PortInUseError", "PostgresBinaries", "Supervisor", "embedded_servers", "ensure_port_free", "find_postgres",
    "find_redis_server", "port_is_free", "postgres_binaries", "spare_port", "spawn", "start_postgres",
    "start_redis",
]
