"""Revoke on the account page as a user of the services notices it: the same effects as
`latchkey consent revoke` (refresh token refused at /token, access token refused by the resource
service within 5 s), and another application's tokens untouched."""

from __future__ import annotations

import functools

from services.authorize.app import create_app as create_authorize_app
from shared.stores.pg_consents import PgConsents
from tests.integration.authorize.conftest import TestUser
from tests.integration.authorize.test_authorize_account import sign_in_at_account
from tests.integration.management.conftest import (
    PASSWORD,
    REDIRECT_URI,
    eventually,
    notes_status,
    refresh,
    refused_by_resource,
    tokens,
)
from tests.support.factories import make_client


async def test_revoke_on_the_account_page_ends_the_grant(aiohttp_client, suite, redis, settings, client, user, pool):
    other = await make_client(pool, redirect_uris=(REDIRECT_URI,), name="Bystander App")
    for each in (client, other):
        await PgConsents(pool).grant(user.id, each.client_id, frozenset({"openid", "offline_access", "notes:read"}))
    issued = await tokens(suite, redis, settings, client, user)
    bystander = await tokens(suite, redis, settings, other, user)
    browser = await aiohttp_client(create_authorize_app(settings))
    page = await sign_in_at_account(browser, TestUser(user, PASSWORD))
    assert page.html.count("last used <time") == 2  # from the refresh tokens just issued

    response = await browser.post("/account/applications/revoke", data={"csrf": page.csrf,
                                                                         "client_id": client.client_id},
                                  allow_redirects=False)

    assert response.status == 303
    await eventually(functools.partial(refused_by_resource, suite, issued["access_token"]))
    status, body = await refresh(suite, client.client_id, client.secret, issued["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    assert await notes_status(suite, bystander["access_token"]) == (200, "")
    status, _ = await refresh(suite, other.client_id, other.secret, bystander["refresh_token"])
    assert status == 200
