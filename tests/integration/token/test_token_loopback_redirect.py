"""At the code exchange a loopback redirect URI (RFC 8252 §7.3) must be the very URI of the
authorization request, port included (RFC 6749 §4.1.3): the port latitude ends at /authorize."""

from __future__ import annotations

import pytest

from tests.integration.token.helpers import error_of, exchange, issue_code
from tests.support.factories import make_client

SENT = "http://127.0.0.1:51234/callback"


@pytest.fixture
async def native_app(pool):
    return await make_client(pool, public=True, redirect_uris=("http://127.0.0.1/callback",))


async def test_the_same_uri_with_its_port_is_exchanged(http, redis, settings, native_app, user):
    issued = await issue_code(redis, settings, native_app, user, scope="openid", redirect_uri=SENT)
    assert (await exchange(http, native_app, issued)).status == 200


@pytest.mark.parametrize("redirect_uri", ["http://127.0.0.1:40000/callback", "http://127.0.0.1/callback"],
                         ids=["another port", "the registered port-less uri"])
async def test_another_port_is_invalid_grant(http, redis, settings, native_app, user, redirect_uri):
    issued = await issue_code(redis, settings, native_app, user, scope="openid", redirect_uri=SENT)
    response = await exchange(http, native_app, issued, redirect_uri=redirect_uri)
    assert response.status == 400
    assert await error_of(response) == "invalid_grant"
