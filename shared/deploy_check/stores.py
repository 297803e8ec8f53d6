"""PostgreSQL and Redis as the services see them: reachable, Redis new enough and keeping what
the deployment relies on, and every clock within the leeway of the host's.

What Redis must keep: Redis holds the revoked access tokens' jti denylist, sessions, login
throttles, rate-limit buckets and pending authorization codes. Losing sessions or throttles on a
restart is an inconvenience; losing the denylist makes revoked access tokens valid again until
they expire (LATCHKEY_ACCESS_TOKEN_TTL_SECONDS). Authorization codes are single use through Redis
and, since issue 9, through PostgreSQL too, so their loss cannot let a code be redeemed twice.
So outside dev we require the append-only file (``aof_enabled``: every write logged, fsynced
each second by default; RDB snapshots alone lose every write since the last snapshot) and an
eviction policy that never evicts (``noeviction``) when a memory limit is set: under memory
pressure a denylist entry or a code must not vanish. Both are read from INFO, which managed
Redis offerings allow where CONFIG GET is often refused. On a dev deployment (`make run`'s
embedded Redis keeps nothing) missing persistence is only a warning.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import asyncpg
from redis.exceptions import RedisError

from shared.config import Settings
from shared.deploy_check.findings import Finding, dev_only, fail, ok
from shared.redis_client import connect
from shared.stores.outages import STORE_ERRORS

_REDIS_ERRORS: tuple[type[BaseException], ...] = (*STORE_ERRORS, RedisError)
_POSTGRES_ERRORS: tuple[type[BaseException], ...] = (*STORE_ERRORS, asyncpg.PostgresError)
MIN_REDIS = (6, 2)  # GETDEL and SET ... GET (shared.stores.redis_codes)
TIMEOUT = 5


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def clock_finding(name: str, skew: float, leeway: int) -> Finding:
    if abs(skew) <= leeway:
        return ok(f"clock {name}", f"{skew:+.2f} s from this host (leeway {leeway} s)")
    return fail(f"clock {name}", f"{skew:+.2f} s from this host, more than LATCHKEY_CLOCK_LEEWAY_SECONDS={leeway}")


async def check_postgres(settings: Settings) -> tuple[list[Finding], asyncpg.Connection | None]:
    """Reachable, and its clock; returns the open connection for the key-ring checks."""
    try:
        conn = await asyncpg.connect(settings.database_url, timeout=TIMEOUT)
        before = time.time()
        server_now: datetime = await conn.fetchval("SELECT now()")
        after = time.time()
    except _POSTGRES_ERRORS as exc:
        return [fail("postgres", f"unreachable at DATABASE_URL: {_reason(exc)}")], None
    version = conn.get_server_version()
    # now() is the transaction's start: compare with the middle of the round trip.
    skew = server_now.astimezone(UTC).timestamp() - (before + after) / 2
    return [ok("postgres", f"reachable, PostgreSQL {version.major}.{version.minor}"),
            clock_finding("postgres", skew, settings.clock_leeway)], conn


def redis_persistence(info: dict[str, object], dev_mode: bool) -> list[Finding]:
    found = []
    if str(info.get("aof_enabled")) == "1":
        found.append(ok("redis persistence", "append-only file on"))
    else:
        found.append(dev_only("redis persistence", "appendonly is off: a Redis restart forgets revoked access tokens "
                              "(set appendonly yes)", dev_mode))
    policy = str(info.get("maxmemory_policy", "noeviction"))
    if int(str(info.get("maxmemory", 0))) > 0 and policy != "noeviction":
        found.append(fail("redis eviction", f"maxmemory-policy is {policy}: under memory pressure Redis would evict "
                                            "revocations and codes (set noeviction)"))
    else:
        found.append(ok("redis eviction", f"maxmemory-policy {policy}"))
    return found


async def check_redis(settings: Settings) -> list[Finding]:
    try:
        # Every REDIS_URL form the services accept (Sentinel, Cluster), through the same code.
        client = connect(settings.redis_url, max_connections=2, socket_timeout=TIMEOUT)
    except (ValueError, RedisError) as exc:
        return [fail("redis", f"REDIS_URL cannot be used: {_reason(exc)}")]
    try:
        info = await client.info()
        before = time.time()
        seconds, micros = await client.time()
        after = time.time()
    except _REDIS_ERRORS as exc:
        return [fail("redis", f"unreachable at REDIS_URL: {_reason(exc)}")]
    finally:
        await client.aclose()
    version = str(info.get("redis_version", "0"))
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    found = [ok("redis", f"reachable, Redis {version}") if parts >= MIN_REDIS
             else fail("redis", f"Redis {version}; Latchkey needs 6.2 or newer")]
    found.extend(redis_persistence(info, settings.dev_mode))
    if (replication := revocation_replication(info, settings.revocation_replicas)) is not None:
        found.append(replication)
    found.append(clock_finding("redis", seconds + micros / 1e6 - (before + after) / 2, settings.clock_leeway))
    return found


def revocation_replication(info: dict[str, object], required: int) -> Finding | None:
    """Replicas are asynchronous: a denylist write the primary acknowledged can be missing on the
    replica a failover promotes, and the revoked token works again, unless revocations wait for
    replicas (LATCHKEY_REVOCATION_REPLICAS, docs/operations.md). Said only where replicas exist."""
    replicas = int(str(info.get("connected_slaves") or 0))
    if replicas == 0 and required == 0:
        return None
    if required == 0:
        return fail("redis replication", f"{replicas} replica(s) but LATCHKEY_REVOCATION_REPLICAS=0: a failover can "
                    "bring a revoked access token back; set LATCHKEY_REVOCATION_REPLICAS=1")
    if replicas < required:
        return fail("redis replication", f"{replicas} replica(s) connected, fewer than LATCHKEY_REVOCATION_REPLICAS="
                    f"{required}: every revocation waits LATCHKEY_REVOCATION_WAIT_MS and stays pending")
    return ok("redis replication", f"{replicas} replica(s); revocations wait for {required}")
