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
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from shared.config import Settings

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


def create_redis(settings: Settings) -> Redis:
    pool = BlockingConnectionPool.from_url(
        settings.redis_url, max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_SECONDS,
        socket_timeout=SOCKET_TIMEOUT_SECONDS, socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        retry=Retry(ExponentialWithJitterBackoff(cap=RETRY_CAP_SECONDS, base=RETRY_BASE_SECONDS), RETRIES,
                    supported_errors=(RedisConnectionError,)),
        health_check_interval=HEALTH_CHECK_SECONDS,
    )
    return Redis(connection_pool=pool)
