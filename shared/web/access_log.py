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
"""

from __future__ import annotations

import logging
import logging.handlers
import threading
from typing import Any

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from shared.web.metrics import UNMATCHED_ROUTE, route_template
from shared.web.request_context import request_info

ACCESS_LOGGER = "latchkey.access"
BATCH = 64  # lines held at most: each held record is about 1 KB of every process's memory
FLUSH_SECONDS = 1.0
_UNMATCHED_PATH_CHARS = 200  # an unknown address is logged (scanners, broken links), bounded


def access_fields(request: BaseRequest, response: StreamResponse, seconds: float) -> dict[str, Any]:
    route = route_template(request)
    fields: dict[str, Any] = {"remote": request.remote, "method": request.method, "route": route,
                              "status": response.status, "latency_ms": round(seconds * 1000, 1)}
    if route == UNMATCHED_ROUTE:
        fields["path"] = request.path[:_UNMATCHED_PATH_CHARS]
    info = request_info(request)
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


class AccessLogger(AbstractAccessLogger):
    """The fields go on the record (``fields``) for the JSON formatter, and into the message
    for the text one."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        fields = access_fields(request, response, time)
        extra = " ".join(f"{key}={fields[key]}" for key in ("path", "request_id", "client_id", "error", "reason",
                                                             "ref")
                         if key in fields)
        self.logger.info("%s %s %s %d %.1fms %s", fields["remote"], fields["method"], fields["route"],
                         fields["status"], fields["latency_ms"], extra, extra={"fields": fields})


PathOnlyAccessLogger = AccessLogger  # the name before request ids and reasons were added


class BatchedLines(logging.handlers.MemoryHandler):
    """A MemoryHandler whose flush writes its records to a stream handler in one write (the
    standard one hands them over one by one, and the stream handler writes and flushes each)."""

    def __init__(self, capacity: int, flushLevel: int, target: logging.StreamHandler[Any]) -> None:  # noqa: N803 (logging's naming)
        super().__init__(capacity, flushLevel=flushLevel, target=target)
        self._stream_handler = target

    def flush(self) -> None:
        target = self._stream_handler
        self.acquire()  # held while writing, as MemoryHandler does: batches stay in order
        try:
            records, self.buffer = self.buffer, []
            if records and target.stream is None:  # a file not opened yet: the handler's own path opens it
                for record in records:
                    target.handle(record)
            elif records:
                self._write(target, records)
        finally:
            self.release()

    @staticmethod
    def _write(target: logging.StreamHandler[Any], records: list[logging.LogRecord]) -> None:
        lines = []
        for record in records:
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
            target.handleError(records[-1])
        finally:
            target.release()


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
