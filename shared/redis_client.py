"""The redis.asyncio client: one pooled client per process, tied to the app lifecycle.

A Redis restart leaves every pooled connection dead while the pool still hands them out. The
client therefore checks a connection that sat idle before using it (a PING), and a command
that fails with a connection error is sent again on a fresh connection after a short jittered
backoff, so requests succeed as soon as Redis answers again instead of failing once per stale
connection.

What a retry may repeat. Only connection errors are retried (refused, reset, closed by the
server, LOADING), never timeouts: a command that timed out may have run, and waiting out the
timeout again would only stretch a failing request. A connection error can still, rarely, hide
a command the old server ran before the reply was lost; every command Latchkey sends is safe
to repeat then:
- reads (GET, MGET, EXISTS) and SETs of a fixed value or expiry (denylist, sessions,
  transactions) are idempotent; a repeated SET NX of a code finds its own value and is
  accepted as written (RedisCodeStore.save);
- consuming a code (GETDEL and the used marker, one script) run twice answers nil the second
  time: the exchange fails with invalid_grant and the code is spent (the client starts the
  flow again). Never a second set of tokens;
- completing a transaction (DEL of the transaction, SET of the code, one script) run twice
  answers "already completed": the user starts again;
- the login throttle's reserve run twice holds one place too many until its window ends (a
  stricter throttle, never a guess let through); its release run twice gives one place too
  many back to the client address: one more failed guess from that address in the window.

Topologies (shared.redis_topology). Behind Sentinel every new connection asks the sentinels
for the primary's address, so the same retries carry a request over a failover once the
sentinels have promoted a replica: a connection to the dead primary fails, the pool drops it,
and the next one goes to the new primary. A primary demoted to replica answers writes with
READONLY, which the Sentinel connection turns into a connection error (retried the same way).
A Redis Cluster client follows MOVED/ASK redirections and refreshes its slot map itself.
"""

from __future__ import annotations

import time
from typing import Any, Protocol, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from shared.config import Settings
from shared.redis_topology import RedisTopology, parse_redis_url

# Most pooled connections at once; beyond them a request waits (POOL_WAIT_SECONDS) for one
# rather than failing, so a burst queues instead of answering 503.
MAX_CONNECTIONS = 64
POOL_WAIT_SECONDS = 5
# Explicit so an unreachable or hung Redis fails a request instead of hanging it; every
# command Latchkey sends takes well under a millisecond.
SOCKET_TIMEOUT_SECONDS = 5
# After a restart one failure per stale connection is expected and the first reconnect works;
# the further attempts cover a server still loading its data (LOADING). While Redis is down a
# request gives up after at most 0.05 + 0.1 + 0.2 s of backoff (connect is refused at once).
RETRIES = 3
RETRY_BASE_SECONDS = 0.05
RETRY_CAP_SECONDS = 0.5
# A connection idle longer than this is PINGed (and replaced if dead) before a command goes
# out on it: a command is then not sent on a connection a restart killed while it was idle.
# Busy connections are never idle this long, so the PING costs nothing under load.
HEALTH_CHECK_SECONDS = 10


class CommandObserver(Protocol):
    """Told of every command after it ran (metrics; a trace span built afterwards: epoch ns)."""

    def command_done(self, command: str, started_ns: int, ended_ns: int, error: BaseException | None) -> None: ...


class ObservedRedis(Redis):
    """Times every command sent through the client (scripts run as EVALSHA go through here too;
    pipelines, used by the denylist and sessions, are not timed command by command)."""

    observer: CommandObserver | None = None

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        observer = self.observer
        if observer is None:
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        started = time.time_ns()
        error: BaseException | None = None
        try:
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        except BaseException as exc:
            error = exc
            raise
        finally:
            name = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
            observer.command_done(name.upper(), started, time.time_ns(), error)


def _retry() -> Retry:
    return Retry(ExponentialWithJitterBackoff(cap=RETRY_CAP_SECONDS, base=RETRY_BASE_SECONDS), RETRIES,
                 supported_errors=(RedisConnectionError,))


class _BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """A Sentinel pool that waits for a free connection like the single-server pool does."""


def create_redis(settings: Settings, observer: CommandObserver | None = None) -> Redis:
    """The process's pooled client for REDIS_URL, whatever its topology; ``observer`` times its
    commands (not on Redis Cluster, whose client is another class)."""
    client = connect(settings.redis_url, max_connections=MAX_CONNECTIONS, socket_timeout=SOCKET_TIMEOUT_SECONDS,
                     retry=_retry(), health_check_interval=HEALTH_CHECK_SECONDS)
    if isinstance(client, ObservedRedis):
        client.observer = observer
    return client


def connect(url: str, *, max_connections: int, socket_timeout: float, retry: Retry | None = None,
            health_check_interval: float = 0) -> Redis:
    """A client for ``url`` (any REDIS_URL form), with the given pool size and timeouts.

    A RedisCluster is returned typed as Redis: it offers every command the stores send (GET,
    SET, GETDEL, MGET, EVALSHA, pipelines) with the same signatures."""
    topology = parse_redis_url(url)
    options: dict[str, Any] = {"socket_timeout": socket_timeout, "socket_connect_timeout": socket_timeout,
                               "health_check_interval": health_check_interval}
    if retry is not None:
        options["retry"] = retry
    if topology.kind == "single":
        pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=POOL_WAIT_SECONDS,
                                               **options)
        return ObservedRedis(connection_pool=pool)
    if topology.kind == "sentinel":
        return _sentinel_client(topology, max_connections, options)
    cluster = RedisCluster(startup_nodes=[ClusterNode(host, port) for host, port in topology.nodes],
                           username=topology.username, password=topology.password,
                           max_connections=max_connections, **options)
    return cast(Redis, cluster)


def _sentinel_client(topology: RedisTopology, max_connections: int, options: dict[str, Any]) -> Redis:
    # The sentinels get the same timeouts but no retry: discover_master already tries each one.
    sentinel_options = {"socket_timeout": options["socket_timeout"],
                        "socket_connect_timeout": options["socket_connect_timeout"],
                        "password": topology.sentinel_password}
    sentinel = Sentinel(list(topology.nodes), sentinel_kwargs=sentinel_options)  # type: ignore[no-untyped-call]
    client: Redis = sentinel.master_for(
        topology.service_name, redis_class=ObservedRedis, connection_pool_class=_BlockingSentinelPool,
        db=topology.db, username=topology.username, password=topology.password, max_connections=max_connections,
        timeout=POOL_WAIT_SECONDS, **options)
    return client
