"""The access lines a test's requests produced (logger latchkey.access, captured by caplog)."""

from __future__ import annotations

import asyncio

import pytest


async def access_lines(caplog: pytest.LogCaptureFixture, request_id: str, *, within: float = 1.0) -> list[str]:
    """The lines naming ``request_id``, once there is one: a line is written after its answer
    is sent, so it may come a moment after the response. [] when none came ``within`` seconds."""
    for _ in range(int(within / 0.01)):
        lines = [r.getMessage() for r in caplog.records if f"request_id={request_id}" in r.getMessage()]
        if lines:
            return lines
        await asyncio.sleep(0.01)
    return []
