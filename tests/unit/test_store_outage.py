"""store_outage_middleware: a store that is down is a 503, logged without the raw path."""

import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from aiohttp.web_urldispatcher import UrlDispatcher
from redis.exceptions import ConnectionError as RedisConnectionError

from shared.errors import TemporarilyUnavailable
from shared.web.unavailable import store_outage_middleware


async def test_a_store_outage_is_503_and_its_log_line_names_the_route_not_the_path(caplog):
    caplog.set_level(logging.WARNING, "latchkey.outage")
    async def handler(_: web.Request) -> web.StreamResponse:
        raise RedisConnectionError("connection refused")

    router = UrlDispatcher()
    router.add_route("POST", "/admin/v1/users/{username}/disable", handler)
    request = make_mocked_request("POST", "/admin/v1/users/ada.lovelace/disable")
    request._match_info = await router.resolve(request)

    with pytest.raises(TemporarilyUnavailable):
        await store_outage_middleware(request, handler)
    [line] = [r.getMessage() for r in caplog.records if r.name == "latchkey.outage"]
    assert "/admin/v1/users/{username}/disable" in line and "ada.lovelace" not in line
