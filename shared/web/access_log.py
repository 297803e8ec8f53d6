"""One access line per request an operator can act on, costing little.

Each line has the request id (also in the X-Request-Id response header and on error pages),
the route TEMPLATE (never the raw path: it may carry ids; never the query: it carries codes and
state), status, latency, the authenticated client where known, and for a 4xx/5xx the OAuth error
code and a short reason key (shared.web.request_context). As text (LATCHKEY_LOG_FORMAT=text):

    127.0.0.1 POST /token 400 3.1ms rid=5f0c... client=app-1 error=invalid_grant reason=pkce_mismatch

An error page's line ends with the reference the page showed: ``ref=7K3QX9M2PA``.

As JSON the same fields are keys of one object a line (shared.logs.JsonFormatter).

A flushed write per request was a sixth of the CPU of the cheapest endpoint, so access lines
are buffered and written in batches, one write each: when 64 are waiting, on a warning, or
once a second (a batch of 256 held a quarter MiB more at the peak, for no measurable CPU).

Where `latchkey serve` set the access log up (a batch in front of one of shared.logs'
formatters, no filters), each line is written straight from its fields into the batch, the same
text the formatter makes of a record: building and handling a LogRecord was three quarters of
the access log's cost, and about 3% of a code exchange's CPU. Any other set-up (a test's capture,
a handler of an operator's own) gets records, as before.
"""

from __future__ import annotations

import logging
import logging.handlers
import threading
import time as clock
from typing import Any, cast

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from shared.logs import LineFormatter
from shared.web.metrics import UNMATCHED_ROUTE, route_template
from shared.web.request_context import request_info

ACCESS_LOGGER = "latchkey.access"
BATCH = 64  # lines held at most: each held record is about 1 KB of every process's memory
FLUSH_SECONDS = 1.0
_UNMATCHED_PATH_CHARS = 200  # an unknown address is logged (scanners, broken links), bounded


def access_fields(request: BaseRequest, response: StreamResponse, seconds: float) -> dict[str, Any]:
    info = request_info(request)
    route = info.route if info is not None and info.route is not None else route_template(request)
    fields: dict[str, Any] = {"remote": request.remote, "method": request.method, "route": route,
                              "status": response.status, "latency_ms": round(seconds * 1000, 1)}
    if route == UNMATCHED_ROUTE:
        fields["path"] = request.path[:_UNMATCHED_PATH_CHARS]
    if info is not None:
        fields["request_id"] = info.request_id
        if info.client_id is not None:
            fields["client_id"] = info.client_id
        if response.status >= 400:
            fields["error"] = info.error or ("server_error" if response.status >= 500 else "invalid_request")
            fields["reason"] = info.reason or f"http_{response.status}"
        if info.reference is not None:
            fields["ref"] = info.reference  # what the error page showed the user
    return fields


_MESSAGE = "%s %s %s %d %.1fms %s"
_EXTRA_KEYS = ("path", "request_id", "client_id", "error", "reason", "ref")


class AccessLogger(AbstractAccessLogger):
    """The fields go on the record (``fields``) for the JSON formatter, and into the message
    for the text one; or straight into the batch as a line (see the module's docstring)."""

    def __init__(self, logger: logging.Logger, log_format: str) -> None:
        super().__init__(logger, log_format)
        self._batch = _direct_batch(logger)  # aiohttp makes one per connection: checked that often

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        fields = access_fields(request, response, time)
        args = (fields["remote"], fields["method"], fields["route"], fields["status"], fields["latency_ms"],
                " ".join([f"{key}={fields[key]}" for key in _EXTRA_KEYS if key in fields]))
        batch = self._batch
        if batch is not None and self.logger.isEnabledFor(logging.INFO):
            batch.add_line(self.logger.name, _MESSAGE % args, fields)
        else:
            self.logger.info(_MESSAGE, *args, extra={"fields": fields})


PathOnlyAccessLogger = AccessLogger  # the name before request ids and reasons were added


class BatchedLines(logging.handlers.MemoryHandler):
    """A MemoryHandler whose flush writes its records to a stream handler in one write (the
    standard one hands them over one by one, and the stream handler writes and flushes each)."""

    def __init__(self, capacity: int, flushLevel: int, target: logging.StreamHandler[Any]) -> None:  # noqa: N803 (logging's naming)
        super().__init__(capacity, flushLevel=flushLevel, target=target)
        self._stream_handler = target
        self.buffer: list[logging.LogRecord | str] = []  # type: ignore[assignment]  # a record, or a line made

    def direct(self) -> bool:
        """Lines may skip records: a formatter that writes lines, nothing filtering, INFO passes."""
        target = self._stream_handler
        return (isinstance(target.formatter, LineFormatter) and type(target) is logging.StreamHandler
                and not self.filters and not target.filters and self.level <= logging.INFO
                and target.level <= logging.INFO)

    def add_line(self, logger: str, message: str, fields: dict[str, Any]) -> None:
        """One INFO line, made now as the target's formatter would make it of a record."""
        # A LineFormatter: direct() said so (an isinstance check on an ABC, per line, costs more).
        formatter = cast(LineFormatter, self._stream_handler.formatter)
        line = formatter.line(logger, clock.time(), message, fields)
        self.acquire()
        try:
            self.buffer.append(line)
            if len(self.buffer) >= self.capacity:
                self.flush()
        finally:
            self.release()

    def flush(self) -> None:
        target = self._stream_handler
        self.acquire()  # held while writing, as MemoryHandler does: batches stay in order
        try:
            records, self.buffer = self.buffer, []
            if records and target.stream is None:  # a file not opened yet: the handler's own path opens it
                for record in records:
                    target.handle(record if isinstance(record, logging.LogRecord) else _as_record(record))
            elif records:
                self._write(target, records)
        finally:
            self.release()

    @staticmethod
    def _write(target: logging.StreamHandler[Any], records: list[logging.LogRecord | str]) -> None:
        lines = []
        for record in records:
            if isinstance(record, str):  # made by add_line, in the target's format already
                lines.append(record + target.terminator)
                continue
            if not target.filter(record):
                continue
            try:
                lines.append(target.format(record) + target.terminator)
            except RecursionError:  # as logging.StreamHandler.emit
                raise
            except Exception:
                target.handleError(record)  # that line only; the rest of the batch is written
        if not lines:
            return
        target.acquire()
        try:
            target.stream.write("".join(lines))
            target.stream.flush()
        except RecursionError:
            raise
        except Exception:
            last = records[-1]
            target.handleError(last if isinstance(last, logging.LogRecord) else _as_record(last))
        finally:
            target.release()


def _as_record(line: str) -> logging.LogRecord:
    """A made line as a record, for the handler's own paths (opening a file, reporting an error)."""
    return logging.makeLogRecord({"name": ACCESS_LOGGER, "levelno": logging.INFO, "levelname": "INFO", "msg": line})


def _direct_batch(logger: logging.Logger) -> BatchedLines | None:
    """The batch lines may go straight into: the logger's only handler, set up by
    buffer_access_log, with nothing else that would see a record."""
    handlers = logger.handlers
    if len(handlers) != 1 or logger.filters or logger.propagate:
        return None
    batch = handlers[0]
    return batch if isinstance(batch, BatchedLines) and batch.direct() else None


def buffer_access_log(target: logging.StreamHandler[Any], logger_name: str = ACCESS_LOGGER) -> BatchedLines:
    """Sends the access logger's records to ``target`` in batches; a daemon thread flushes
    what is waiting every second, so a quiet server's lines still appear promptly."""
    buffered = BatchedLines(BATCH, flushLevel=logging.WARNING, target=target)
    access = logging.getLogger(logger_name)
    access.addHandler(buffered)
    access.propagate = False

    def flush_periodically() -> None:
        while not stop.wait(FLUSH_SECONDS):
            buffered.flush()

    stop = threading.Event()
    threading.Thread(target=flush_periodically, name="access-log-flush", daemon=True).start()
    return buffered
