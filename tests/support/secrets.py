"""Every secret a test run used, and every log line the run wrote: at the end, no line may hold
a secret (client secrets, passwords, codes, access/refresh tokens, state values).

tests/conftest.py captures every record of the ``latchkey`` loggers (access lines included)
for the whole session; tests that run services as subprocesses add those processes' log files
(``add_log_text``). Factories and flows ``register`` what they create or receive.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any


def _access_log() -> dict[str, object]:
    from shared.web.access_log import ACCESS_LOGGER, AccessLogger

    return {"access_log_class": AccessLogger, "access_log": logging.getLogger(ACCESS_LOGGER)}


# What a test server (aiohttp TestServer / AppRunner keywords) needs to write the services' own
# access lines, the ones `latchkey serve` writes, into the captured logger.
ACCESS_LOG = _access_log()


def logged_test_server(app: Any) -> Any:
    """aiohttp's TestServer writing the services' access lines (it ignores constructor keywords
    meant for its runner, so they are added where the runner is made)."""
    from aiohttp.test_utils import TestServer

    class LoggedTestServer(TestServer):
        async def _make_runner(self, **kwargs: Any) -> Any:
            return await super()._make_runner(**{**ACCESS_LOG, **kwargs})

    return LoggedTestServer(app)
# Shorter values would match by chance ("st-1" in a request id); every real secret is longer.
MIN_SECRET_CHARS = 8

_lock = threading.Lock()
_secrets: set[str] = set()
_lines: list[tuple[str, str]] = []  # (where, line)


def register(*values: str | None) -> None:
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= MIN_SECRET_CHARS)


def register_tokens(document: dict[str, object]) -> None:
    """A token response's tokens (RFC 6749 §5.1)."""
    register(*(v for k, v in document.items() if k in ("access_token", "refresh_token", "id_token")
               and isinstance(v, str)))


def add_log_text(where: str, text: str) -> None:
    with _lock:
        _lines.extend((where, line) for line in text.splitlines())


class CapturingHandler(logging.Handler):
    """Keeps each record as formatted (message, fields, traceback): what any handler could write."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            fields = getattr(record, "fields", None)
            if fields:
                line += f" {fields}"
        except Exception:  # a record that cannot be formatted is still a line: keep its parts
            line = f"{record.msg} {record.args}"
        with _lock:
            _lines.append((record.name, line))


def leaks() -> list[str]:
    """Lines holding a registered secret, each named with the logger (or file) it came from."""
    with _lock:
        secrets, lines = list(_secrets), list(_lines)
    return [f"{where}: {line[:300]}" for where, line in lines if any(s in line for s in secrets)]


def counts() -> tuple[int, int]:
    with _lock:
        return len(_secrets), len(_lines)


def capture(logger_names: Iterable[str]) -> CapturingHandler:
    handler = CapturingHandler()
    for name in logger_names:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
    return handler
