"""Types the tests share: `present(x)` for a value a test knows is there, the aiohttp test client."""

from __future__ import annotations

from typing import TypeVar

from aiohttp import web
from aiohttp.test_utils import TestClient

T = TypeVar("T")

# The client pytest-aiohttp and TestServer give for one of our apps.
AppClient = TestClient[web.Request, web.Application]


def present(value: T | None) -> T:
    """Fails the test where ``value`` is None; a store's `find`/`get` is Optional, the test knows better."""
    assert value is not None, "expected a value, got None"
    return value
