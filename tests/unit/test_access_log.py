"""Access lines: the path only (never the query), written in batches yet promptly."""

import io
import json
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp.test_utils import make_mocked_request
from aiohttp.web import Response

from shared.logs import formatter
from shared.web.access_log import BATCH, AccessLogger, PathOnlyAccessLogger, access_fields, buffer_access_log
from shared.web.metrics import UNMATCHED_ROUTE


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


class RecordingErrors(logging.StreamHandler[CountingStream]):
    def __init__(self, stream: CountingStream) -> None:
        super().__init__(stream)
        self.errors: list[logging.LogRecord] = []

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's naming)
        self.errors.append(record)


@contextmanager
def access_logger(target: logging.StreamHandler[CountingStream]) -> Iterator[tuple[logging.Logger, logging.Handler]]:
    """A logger of its own, buffered into ``target`` as `latchkey serve` buffers the access log."""
    name = f"test.access.{time.monotonic_ns()}"
    buffered = buffer_access_log(target, logger_name=name)
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    try:
        yield logger, buffered
    finally:
        logger.removeHandler(buffered)


def test_lines_are_batched_then_flushed_within_a_second_without_the_query():
    stream = CountingStream()
    with access_logger(logging.StreamHandler(stream)) as (logger, _):
        access = PathOnlyAccessLogger(logger, "")
        access.log(make_mocked_request("GET", "/callback?code=SECRET-CODE&state=s"), Response(status=302), 0.002)
        assert stream.getvalue() == "", "a line is written at once: nothing is batched"
        deadline = time.monotonic() + 3
        while not stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
        line = stream.getvalue()
        assert "GET unmatched 302" in line and "path=/callback" in line
        assert "SECRET-CODE" not in line and "state" not in line


def test_a_full_batch_is_written_at_once_in_one_write():
    stream = CountingStream()
    with access_logger(logging.StreamHandler(stream)) as (logger, _):
        access = PathOnlyAccessLogger(logger, "")
        for _ in range(BATCH):
            access.log(make_mocked_request("GET", "/healthz"), Response(status=200), 0.001)
        lines = stream.getvalue().splitlines()
        assert len(lines) == BATCH and all("GET unmatched 200" in line for line in lines)
        assert stream.writes == 1


def test_a_line_that_cannot_be_formatted_costs_only_itself():
    stream = CountingStream()
    target = RecordingErrors(stream)
    with access_logger(target) as (logger, buffered):
        logger.info("first")
        logger.info("broken %d", "not a number")
        logger.info("last")
        buffered.flush()
        assert stream.getvalue().splitlines() == ["first", "last"] and stream.writes == 1
        assert [record.msg for record in target.errors] == ["broken %d"]


def test_a_request_answered_before_it_was_routed_is_logged_as_unmatched():
    """aiohttp answers a malformed request (a NUL in a header, Content-Length: abc) with 400 before
    routing it; its access line must still be written, not raise from the route lookup."""
    request = make_mocked_request("GET", "/x")
    request._match_info = None  # as aiohttp leaves such a request
    fields = access_fields(request, Response(status=400), 0.001)
    assert (fields["route"], fields["path"], fields["status"]) == (UNMATCHED_ROUTE, "/x", 400)


def _one_line(target: logging.StreamHandler[CountingStream]) -> tuple[str, bool]:
    """The line one request makes, and whether it went into the batch without a record."""
    with access_logger(target) as (logger, buffered):
        access = AccessLogger(logger, "")
        access.log(make_mocked_request("POST", "/token?code=SECRET-CODE"), Response(status=200), 0.0031)
        made_directly = isinstance(buffered.buffer[0], str)  # type: ignore[attr-defined]
        buffered.flush()
    return target.stream.getvalue(), made_directly


def test_a_line_goes_into_the_batch_without_a_record_in_either_format():
    """As `latchkey serve` sets the log up: the line is made straight from its fields (no
    LogRecord per request), and reads as the formatter writes any other line."""
    text = logging.StreamHandler(CountingStream())
    text.setFormatter(formatter("text"))
    line, direct = _one_line(text)
    assert direct
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO test\.access\.\d+ "
                        r"None POST unmatched 200 3\.1ms path=/token\n", line), line
    as_json = logging.StreamHandler(CountingStream())
    as_json.setFormatter(formatter("json"))
    line, direct = _one_line(as_json)
    entry = json.loads(line)
    assert direct and line.endswith("}\n") and line.count("\n") == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry.pop("ts"))
    assert entry.pop("logger").startswith("test.access.")
    assert entry == {"level": "INFO", "remote": None, "method": "POST", "route": "unmatched", "status": 200,
                     "latency_ms": 3.1, "path": "/token"}


def test_a_filter_of_the_operators_own_still_sees_every_record():
    target = logging.StreamHandler(CountingStream())
    target.setFormatter(formatter("text"))
    target.addFilter(lambda record: "POST" not in record.getMessage())
    line, direct = _one_line(target)
    assert not direct and line == ""
