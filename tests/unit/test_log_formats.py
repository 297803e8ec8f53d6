"""The JSON log line (shared.logs.JsonFormatter): one object a line, the access fields as keys,
the time in UTC to the millisecond, also across second boundaries (the formatter keeps the
last second's text)."""

import json
import logging
import os
import time
from collections.abc import Iterator

import pytest

from shared.logs import JsonFormatter, TextFormatter
from shared.logs import formatter as formatter_for


def _record(created: float, fields: dict[str, object] | None = None) -> logging.LogRecord:
    record = logging.LogRecord("latchkey.access", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    record.created = created
    if fields is not None:
        record.fields = fields
    return record


def test_an_access_record_becomes_one_object_with_its_fields_as_keys():
    line = JsonFormatter().format(_record(1_790_000_000.25, {"route": "/token", "status": 200, "odd": object()}))
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["ts"] == "2026-09-21T14:13:20.250Z"
    assert (entry["level"], entry["logger"], entry["route"], entry["status"]) == ("INFO", "latchkey.access",
                                                                                   "/token", 200)
    assert entry["odd"].startswith("<object object")  # anything else is written as its text
    assert "msg" not in entry


def test_a_record_without_fields_carries_its_message():
    assert json.loads(JsonFormatter().format(_record(0.0)))["msg"] == "hello there"


def test_times_are_right_within_a_second_and_across_seconds():
    formatter = JsonFormatter()
    times = [1_790_000_000.125, 1_790_000_000.875, 1_790_000_001.0, 1_789_999_999.5, 1_790_000_001.25]
    assert [json.loads(formatter.format(_record(t)))["ts"] for t in times] == [
        "2026-09-21T14:13:20.125Z", "2026-09-21T14:13:20.875Z", "2026-09-21T14:13:21.000Z",
        "2026-09-21T14:13:19.500Z", "2026-09-21T14:13:21.250Z"]


def _info_record(created: float, message: str, fields: dict[str, object]) -> logging.LogRecord:
    record = logging.LogRecord("latchkey.access", logging.INFO, __file__, 1, message, None, None)
    record.created, record.msecs, record.fields = created, int(created % 1 * 1000), fields
    return record


@pytest.fixture
def new_york_time() -> Iterator[None]:
    """A local time zone that is not UTC (the text format's times are local), put back after."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.mark.usefixtures("new_york_time")
def test_a_line_made_from_its_parts_is_the_line_made_of_the_record():
    """The access log writes lines without records (shared.web.access_log): each formatter's
    ``line`` must be byte for byte what it makes of the same record, within and across seconds."""
    fields: dict[str, object] = {"remote": "10.0.0.1", "route": "/token", "status": 400, "error": "invalid_grant"}
    message = "10.0.0.1 POST /token 400 3.1ms error=invalid_grant"
    for formatter in (TextFormatter(), JsonFormatter(), formatter_for("text"), formatter_for("json")):
        for created in (1_790_000_000.125, 1_790_000_000.999, 1_790_000_001.0, 1_789_999_999.5, 1_790_000_001.25):
            made = formatter.line("latchkey.access", created, message, fields)
            assert made == formatter.format(_info_record(created, message, fields)), (type(formatter), created)
    assert formatter_for("text").line("latchkey.access", 1_790_000_000.25, message, fields) == (
        "2026-09-21 10:13:20,250 INFO latchkey.access " + message)  # 14:13:20 UTC, in New York
