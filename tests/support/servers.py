"""Which PostgreSQL and Redis the tests use (docs/contract.md, `make test`).

DATABASE_URL / REDIS_URL when set; else testcontainers when a Docker engine answers a ping
within 2 s; else the embedded servers from shared.devstack. Each test run then makes its own
database and Redis key prefix, and removes both at the end.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from tests.support.typed import present


def _docker_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


@contextlib.contextmanager
def _testcontainers() -> Iterator[tuple[str, str]]:
    from testcontainers.postgres import PostgresContainer
    from testcontainers.redis import RedisContainer

    with PostgresContainer("postgres:16-alpine", driver=None) as pg, RedisContainer("redis:7-alpine") as rd:
        redis_url = f"redis://{rd.get_container_host_ip()}:{rd.get_exposed_port(6379)}/0"
        yield pg.get_connection_url(), redis_url


@contextlib.contextmanager
def _embedded(missing_pg: bool, missing_redis: bool) -> Iterator[tuple[str | None, str | None]]:
    import tempfile

    from shared.devstack import embedded_servers

    with tempfile.TemporaryDirectory(prefix="latchkey-test-") as data_dir:
        with embedded_servers(data_dir, postgres=missing_pg, redis=missing_redis) as urls:
            yield urls.database_url, urls.redis_url


@contextlib.contextmanager
def test_servers() -> Iterator[tuple[str, str]]:
    """Yields (postgres admin URL, redis URL) for this run."""
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if database_url and redis_url:
        yield database_url, redis_url
        return
    if _docker_answers():
        with _testcontainers() as (pg, rd):
            yield database_url or pg, redis_url or rd
        return
    with _embedded(not database_url, not redis_url) as (pg, rd):
        # _embedded starts exactly the servers the environment does not name.
        yield present(database_url or pg), present(redis_url or rd)
