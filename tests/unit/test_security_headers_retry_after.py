"""The outermost middleware's headers: security headers on every answer, Retry-After on every 503
(returned or raised), a handler's own value kept."""

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from shared.web.security_headers import security_headers_middleware

MIDDLEWARE = security_headers_middleware(https=True, retry_after=7)


async def _through(handler):
    return await MIDDLEWARE(make_mocked_request("GET", "/x"), handler)


async def test_a_returned_503_says_when_to_come_back():
    async def handler(_):
        return web.json_response({"status": "unavailable"}, status=503)

    response = await _through(handler)
    assert response.headers["Retry-After"] == "7"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_raised_503_says_it_too():
    async def handler(_):
        raise web.HTTPServiceUnavailable()

    with pytest.raises(web.HTTPServiceUnavailable) as raised:
        await _through(handler)
    assert raised.value.headers["Retry-After"] == "7"
    assert raised.value.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_other_statuses_get_no_retry_after_and_a_handlers_own_value_stays():
    async def ok(_):
        return web.Response(text="ok")

    async def own(_):
        return web.Response(status=503, headers={"Retry-After": "30", "Cache-Control": "max-age=5"})

    assert "Retry-After" not in (await _through(ok)).headers
    response = await _through(own)
    assert response.headers["Retry-After"] == "30" and response.headers["Cache-Control"] == "max-age=5"


async def test_without_a_setting_no_retry_after():
    async def handler(_):
        return web.Response(status=503)

    response = await security_headers_middleware(https=False)(make_mocked_request("GET", "/x"), handler)
    assert "Retry-After" not in response.headers and "Strict-Transport-Security" not in response.headers
