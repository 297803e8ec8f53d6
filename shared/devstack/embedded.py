"""Both embedded servers at once on spare ports, for test sessions: `with embedded_servers(dir)`."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from shared.devstack.errors import PortInUseError
from shared.devstack.ports import spare_port
from shared.devstack.postgres import start_postgres
from shared.devstack.redis_server import start_redis

T = TypeVar("T")


@dataclass(frozen=True)
class EmbeddedUrls:
    database_url: str | None  # the superuser on database `latchkey`: may create databases
    redis_url: str | None


def _on_spare_port(start: Callable[[int], T], attempts: int = 3) -> T:
    # A spare port can be taken between the check and the bind; try another.
    for attempt in range(attempts):
        try:
            return start(spare_port())
        except PortInUseError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


@contextlib.contextmanager
def embedded_servers(data_dir: str | os.PathLike[str], *, postgres: bool = True,
                     redis: bool = True) -> Iterator[EmbeddedUrls]:
    """Start the requested servers under data_dir; stop them (and wait) on exit.
    Enter from the main thread: the servers die with the thread that started them."""
    root = Path(data_dir)
    with contextlib.ExitStack() as stack:
        pg = cache = None
        if postgres:
            pg = stack.enter_context(_on_spare_port(lambda port: start_postgres(root / "postgres", port)))
        if redis:
            cache = stack.enter_context(_on_spare_port(lambda port: start_redis(root / "redis", port)))
        yield EmbeddedUrls(pg.dsn if pg else None, cache.url if cache else None)
