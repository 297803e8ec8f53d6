"""Log line formats: ``text`` for a developer's terminal, ``json`` (one object a line) for a log
pipeline (LATCHKEY_LOG_FORMAT; the image sets json).

A record may carry ``fields`` (a dict: the access logger's) that become keys of the JSON object.
Both formatters can also write a line straight from its parts (``line``), exactly as they format
the record: the access log's path, which skips building a LogRecord for every request.
Callers log identifiers and fixed keys only, never a secret, code, token, password or state
(tests/conftest.py greps every line of a test run for the secrets the tests used).
"""

from __future__ import annotations

import abc
import json
import logging
import time
from collections.abc import Callable
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


# One encoder for every line: json.dumps with options builds a new one on each call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str)


class _SecondText:
    """A time's text up to the second, formatted once a second (the millisecond is the caller's)."""

    def __init__(self, fmt: str, converter: Callable[[float], time.struct_time]) -> None:
        self._fmt, self._converter = fmt, converter
        self._last: tuple[int, str] = (-1, "")  # the last second formatted, and its text

    def __call__(self, created: float) -> str:
        second, last = int(created), self._last  # one read: another thread may format too
        if last[0] != second:
            last = self._last = (second, time.strftime(self._fmt, self._converter(second)))
        return last[1]


class LineFormatter(logging.Formatter, metaclass=abc.ABCMeta):
    """A formatter that can also write an INFO line without a record (no exception, no stack)."""

    @abc.abstractmethod
    def line(self, logger: str, created: float, message: str, fields: dict[str, Any]) -> str:
        """The line ``format`` makes of an INFO record of ``logger`` with these parts."""


class TextFormatter(LineFormatter):
    """TEXT_FORMAT, with logging's own default time format (local time, milliseconds)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        # Through self.converter when a second starts: a converter set later (UTC, say) is followed.
        self._second = _SecondText(self.default_time_format, lambda second: self.converter(second))

    def line(self, logger: str, created: float, message: str, fields: dict[str, Any]) -> str:
        return f"{self._second(created)},{int(created % 1 * 1000):03d} INFO {logger} {message}"


class JsonFormatter(LineFormatter):
    def __init__(self) -> None:
        super().__init__()
        self._second = _SecondText("%Y-%m-%dT%H:%M:%S", time.gmtime)

    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": self._timestamp(record.created), "level": record.levelname, "logger": record.name}
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        else:
            entry["msg"] = record.getMessage()
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return _ENCODER.encode(entry)

    def line(self, logger: str, created: float, message: str, fields: dict[str, Any]) -> str:
        return _ENCODER.encode({"ts": self._timestamp(created), "level": "INFO", "logger": logger, **fields})

    def _timestamp(self, created: float) -> str:
        """UTC to the millisecond."""
        return f"{self._second(created)}.{int(created % 1 * 1000):03d}Z"


def formatter(log_format: str) -> LineFormatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()
