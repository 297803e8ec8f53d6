"""REDIS_URL behind Sentinel and as a Redis Cluster, DATABASE_URL with several hosts: real servers.

Each Redis topology is private (spare loopback ports, a temporary directory); the PostgreSQL
test puts a private read-only server and a closed port in front of the run's own database.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from shared.bearer.revocation import RedisDenylistReader, TokenRef
from shared.config import Settings
from shared.db import create_pool
from shared.devstack import spare_port, start_postgres
from shared.errors import ConfigError
from shared.models import AuthorizationGrant, CodeUse
from shared.redis_client import create_redis
from shared.stores.redis_codes import RedisCodeStore
from shared.stores.redis_denylist import RedisDenylist
from shared.stores.redis_sessions import RedisSessions, Session
from shared.stores.redis_throttle import RedisLoginThrottle
from shared.stores.redis_transactions import RedisTransactions
from shared.web.readiness import Readiness
from tests.support.redis_cluster import redis_cluster
from tests.support.redis_sentinel import sentinel_group

GRANT = AuthorizationGrant(client_id="c", redirect_uri="https://app.example/cb", scope=("openid",),
                           user_id="u", auth_time=0)
USE = CodeUse(grant_id="", access_jti="j", access_expires_at=0)


def _settings(test_env: dict[str, str], **env: str) -> Settings:
    return Settings.from_env({**test_env, **env})


async def _every_multi_key_operation(settings: Settings) -> None:
    """Each store operation that touches several keys in one step, against ``settings``' Redis."""
    client = create_redis(settings)
    prefix = settings.redis_prefix
    try:
        codes, sessions, transactions = (RedisCodeStore(client, prefix), RedisSessions(client, prefix),
                                         RedisTransactions(client, prefix))
        first = await sessions.start(Session("u", "alice", 0, "csrf"), 60)
        session_id = await sessions.start(Session("u", "alice", 0, "csrf"), 60, replacing=first)  # MULTI, 2 keys
        assert await sessions.get(first) is None
        tx_id = await transactions.create({"client_id": "c"}, 60)
        record, session = await transactions.get_with_session(tx_id, sessions, session_id)  # MGET, 2 keys
        assert record == {"client_id": "c"} and session is not None
        assert await codes.save_taking("the-code", GRANT, 60, taking=transactions.key(tx_id))  # script, 2 keys
        assert await codes.consume("the-code", USE, 60) is not None  # script, 2 keys
        assert await codes.consume("the-code", USE, 60) is None
        assert (await codes.find_use("the-code")) is not None
        throttle = RedisLoginThrottle(client, prefix, max_per_user=5, max_per_ip=5, max_in_flight_per_ip=5,
                                      window=60)
        attempt = await throttle.begin("alice", "192.0.2.1")  # script, 3 keys
        assert attempt.refused is None
        await throttle.failed(attempt)
        await throttle.succeeded(await throttle.begin("alice", "192.0.2.1"))
        later = datetime.now(UTC) + timedelta(minutes=5)
        await RedisDenylist(client, prefix).add_many([("jti-1", later), ("jti-2", later)])  # pipeline
        reader = RedisDenylistReader(client, prefix)
        tokens = [TokenRef(jti, "sub", "c", 0) for jti in ("jti-1", "jti-2", "jti-3")]
        assert await reader.contains_many(tokens) == [True, True, False]  # MGET, 4 keys a token
    finally:
        await client.aclose()


async def test_sentinel_url_reaches_the_primary_and_follows_a_failover(test_env: dict[str, str]) -> None:
    with sentinel_group() as group:
        settings = _settings(test_env, REDIS_URL=group.url)
        await _every_multi_key_operation(settings)
        client = create_redis(settings)
        readiness = Readiness(settings)
        try:
            await client.set(f"{settings.redis_prefix}before", b"1")
            group.kill_primary()
            promoted_after = await asyncio.to_thread(group.wait_promoted)
            # The same client, never rebuilt: its next connections ask the sentinels again.
            started = time.monotonic()
            while True:
                try:
                    await client.set(f"{settings.redis_prefix}after", b"1")
                    break
                except RedisConnectionError:
                    assert time.monotonic() - started < 10, "the client did not reach the promoted replica"
                    await asyncio.sleep(0.1)
            assert await client.get(f"{settings.redis_prefix}after") == b"1"
            await readiness.probe_once()
            assert readiness.status()["redis"] is True
            print(f"sentinel failover: promoted after {promoted_after:.2f} s")
        finally:
            await client.aclose()
            await readiness.close()


async def test_cluster_url_runs_every_multi_key_operation_in_one_slot(test_env: dict[str, str]) -> None:
    with redis_cluster() as cluster:
        settings = _settings(test_env, REDIS_URL=cluster.url, LATCHKEY_REDIS_PREFIX="{lktest-cluster}:")
        await _every_multi_key_operation(settings)
        readiness = Readiness(settings)
        try:
            await readiness.probe_once()
            assert readiness.status()["redis"] is True
        finally:
            await readiness.close()


def test_cluster_url_needs_a_prefix_with_a_hash_tag(test_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="LATCHKEY_REDIS_PREFIX must contain a hash tag"):
        _settings(test_env, REDIS_URL="redis+cluster://127.0.0.1:7000", LATCHKEY_REDIS_PREFIX="latchkey:")
    assert _settings(test_env, REDIS_URL="redis+cluster://127.0.0.1:7000", LATCHKEY_REDIS_PREFIX="{lk}:")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_multi_host_database_url_with_read_write_skips_a_dead_and_a_read_only_host(
        test_env: dict[str, str], database_url: str) -> None:
    """A closed port, then a server that is read-only (as a standby is), then the writable one:
    with target_session_attrs=read-write every pooled connection lands on the writable one."""
    writable = urlsplit(database_url)
    writable_host, database, user = writable.netloc.rpartition("@")[2], writable.path.lstrip("/"), writable.username
    with tempfile.TemporaryDirectory(prefix="latchkey-pg-ro-") as root:
        read_only = start_postgres(Path(root), spare_port(), database=database)
        try:
            conn = await asyncpg.connect(read_only.dsn)
            await conn.execute("ALTER SYSTEM SET default_transaction_read_only = on")
            await conn.execute("SELECT pg_reload_conf()")
            await conn.close()
            hosts = f"127.0.0.1:{_closed_port()},127.0.0.1:{read_only.port},{writable_host}"
            dsn = f"postgresql://{user}@{hosts}/{database}"
            settings = _settings(test_env, DATABASE_URL=f"{dsn}?target_session_attrs=read-write")
            pool = await create_pool(settings)
            try:
                ports = {await pool.fetchval("SELECT inet_server_port()") for _ in range(4)}
                assert ports == {int(writable_host.rsplit(":", 1)[1])}
                await pool.execute("CREATE TEMPORARY TABLE written (x int)")  # a write succeeds
            finally:
                await pool.close()
            # Without it the first host that answers is taken: the read-only one.
            conn = await asyncpg.connect(dsn)
            try:
                assert await conn.fetchval("SELECT inet_server_port()") == read_only.port
            finally:
                await conn.close()
            readiness = Readiness(settings)
            await readiness.probe_once()
            assert readiness.status()["postgres"] is True
            await readiness.close()
        finally:
            read_only.stop()
