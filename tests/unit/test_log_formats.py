"""The JSON log line (shared.logs.JsonFormatter): one object a line, the access fields as keys,
the time in UTC to the millisecond, also across second boundaries (the formatter keeps the
last second's text)."""

import json
import logging

from shared.logs import JsonFormatter


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
