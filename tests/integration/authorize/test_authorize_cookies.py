"""Cookies we did not issue (wrong format, not even UTF-8) are ignored, never a 5xx."""

import asyncio
from urllib.parse import urlencode

import pytest

from tests.integration.authorize.conftest import CALLBACK
from tests.support.flows import Pkce, authorization_params

PKCE = Pkce.new()


async def raw_get(client, target: str, cookie: bytes) -> tuple[int, bytes]:
    """Sends bytes a browser could send but aiohttp's client will not: a non-UTF-8 Cookie header."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(b"GET " + target.encode() + b" HTTP/1.1\r\nHost: localhost\r\nCookie: " + cookie
                     + b"\r\nConnection: close\r\n\r\n")
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest


@pytest.mark.parametrize("value", [
    pytest.param(b"\xff\xfe", id="bytes that are not UTF-8"),
    pytest.param(b"\xc3(", id="a broken UTF-8 sequence"),
    pytest.param("é".encode() * 43, id="non-ASCII of the right length"),
    pytest.param(b"x" * 44, id="one character too long"),
])
@pytest.mark.parametrize("name", ["latchkey_session", "latchkey_browser"])
@pytest.mark.parametrize("page", ["authorize", "logout"])
async def test_malformed_cookies_are_ignored(authorize_client, web_app, page, name, value):
    query = urlencode(authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid",
                                           code_verifier=PKCE.verifier))
    target = f"/authorize?{query}" if page == "authorize" else "/logout"
    status, rest = await raw_get(authorize_client, target, name.encode() + b"=" + value)
    assert status == (302 if page == "authorize" else 200), rest[:500]
    if page == "authorize":
        assert b"Location: /login?tx=" in rest  # treated as no session: sign in first
