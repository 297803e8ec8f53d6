"""Disable, delete, rotate-secret and consent revoke as a user of the services notices them:
refresh tokens refused at /token, access tokens (also those minted without a refresh token,
which nothing records) refused by the resource service within 5 s, introspection inactive."""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

import pytest

from services.authorize.app import create_app as create_authorize_app
from services.authorize.endpoints.login import WRONG_CREDENTIALS
from services.token.app import create_app as create_token_app
from shared.management import clients, consents, users
from shared.stores.pg_consents import PgConsents
from shared.stores.redis_sessions import RedisSessions, Session
from tests.integration.management.conftest import (
    PASSWORD,
    REDIRECT_URI,
    basic,
    eventually,
    notes_status,
    refresh,
    refused_by_resource,
    tokens,
)
from tests.integration.resource.serving import RunningApp
from tests.support.factories import make_client
from tests.support.flows import authorization_params, open_login, submit_login


async def introspected_active(suite, client, token: str) -> bool:
    async with suite.http.post(suite.token_url + "/introspect", data={"token": token},
                               headers=basic(client.client_id, client.secret)) as response:
        assert response.status == 200
        return bool((await response.json())["active"])


async def test_disabled_user_loses_sessions_refresh_and_access_tokens(suite, backends, redis, settings, client, user):
    with_refresh = await tokens(suite, redis, settings, client, user)
    access_only = await tokens(suite, redis, settings, client, user, scope="openid notes:read")
    assert "refresh_token" not in access_only
    sessions = RedisSessions(redis, settings.redis_prefix)
    await sessions.start(Session(str(user.id), user.username, int(time.time()), "csrf"), 3600)
    assert [await notes_status(suite, t["access_token"]) for t in (with_refresh, access_only)] == [(200, "")] * 2

    await users.set_disabled(backends, user.username, True)

    assert await sessions.of_user(str(user.id)) == []
    for issued in (with_refresh, access_only):
        await eventually(functools.partial(refused_by_resource, suite, issued["access_token"]))
        assert not await introspected_active(suite, client, issued["access_token"])
    status, body = await refresh(suite, client.client_id, client.secret, with_refresh["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_disabled_user_login_is_refused_like_a_wrong_password(aiohttp_client, backends, settings, client, user):
    browser = await aiohttp_client(create_authorize_app(settings))
    params = authorization_params(client_id=client.client_id, redirect_uri=REDIRECT_URI, scope="openid",
                                  code_verifier="v" * 43)
    wrong = await submit_login(browser, await open_login(browser, params), user.username, "not the password")
    await users.set_disabled(backends, user.username, True)
    disabled = await submit_login(browser, await open_login(browser, params), user.username, PASSWORD)
    assert wrong.status == disabled.status == 200
    assert WRONG_CREDENTIALS in await wrong.text() and WRONG_CREDENTIALS in await disabled.text()
    await users.set_disabled(backends, user.username, False)
    enabled = await submit_login(browser, await open_login(browser, params), user.username, PASSWORD)
    assert enabled.status in (302, 303)


async def test_deleted_user_loses_refresh_and_access_tokens(suite, backends, redis, settings, client, user, pool):
    with_refresh = await tokens(suite, redis, settings, client, user)
    access_only = await tokens(suite, redis, settings, client, user, scope="openid notes:read")
    await users.delete(backends, user.username)
    assert await pool.fetchval("SELECT count(*) FROM users WHERE id = $1", user.id) == 0
    for issued in (with_refresh, access_only):
        await eventually(functools.partial(refused_by_resource, suite, issued["access_token"]))
    status, body = await refresh(suite, client.client_id, client.secret, with_refresh["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize("operation", ["disable", "delete"])
async def test_disabled_or_deleted_client_loses_every_token(suite, backends, redis, settings, client, user, pool,
                                                            operation):
    with_refresh = await tokens(suite, redis, settings, client, user)
    access_only = await tokens(suite, redis, settings, client, user, scope="openid notes:read")
    other = await make_client(pool, redirect_uris=(REDIRECT_URI,))
    bystander = await tokens(suite, redis, settings, other, user, scope="openid notes:read")
    if operation == "disable":
        await clients.set_disabled(backends, client.client_id, True)
    else:
        await clients.delete(backends, client.client_id)
    for issued in (with_refresh, access_only):
        await eventually(functools.partial(refused_by_resource, suite, issued["access_token"]))

    async def refresh_refused() -> bool:
        status, body = await refresh(suite, client.client_id, client.secret, with_refresh["refresh_token"])
        return (status, body.get("error")) == (401, "invalid_client")

    await eventually(refresh_refused)
    assert await notes_status(suite, bystander["access_token"]) == (200, "")  # another client's token is untouched


async def test_consent_revoke_ends_that_grant_only(suite, backends, redis, settings, client, user, pool):
    await PgConsents(pool).grant(user.id, client.client_id, frozenset({"openid", "notes:read"}))
    with_refresh = await tokens(suite, redis, settings, client, user)
    access_only = await tokens(suite, redis, settings, client, user, scope="openid notes:read")
    other = await make_client(pool, redirect_uris=(REDIRECT_URI,))
    bystander = await tokens(suite, redis, settings, other, user, scope="openid notes:read")

    revoked = await consents.revoke(backends, user.username, client.client_id)

    assert (revoked.consent_deleted, revoked.refresh_tokens_revoked) == (True, 1)
    assert await PgConsents(pool).granted_scopes(user.id, client.client_id) == frozenset()
    for issued in (with_refresh, access_only):
        await eventually(functools.partial(refused_by_resource, suite, issued["access_token"]))
    status, body = await refresh(suite, client.client_id, client.secret, with_refresh["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    assert await notes_status(suite, bystander["access_token"]) == (200, "")
    # At once, in the revocation's own second too: a new consent's tokens work.
    assert await notes_status(suite, (await tokens(suite, redis, settings, client, user))["access_token"]) == (200, "")


async def test_a_user_or_client_enabled_again_gets_working_tokens_at_once(suite, backends, redis, settings, client,
                                                                          user):
    """The disable refuses tokens minted up to 5 s after it (REVOCATION_MARGIN); enabling ends
    that early, and the tokens issued before the enable stay refused."""
    for disable, enable in (
            (functools.partial(users.set_disabled, backends, user.username, True),
             functools.partial(users.set_disabled, backends, user.username, False)),
            (functools.partial(clients.set_disabled, backends, client.client_id, True),
             functools.partial(clients.set_disabled, backends, client.client_id, False))):
        old = await tokens(suite, redis, settings, client, user, scope="openid notes:read")
        await disable()
        await eventually(functools.partial(refused_by_resource, suite, old["access_token"]))
        await enable()
        new = await eventually_issued(suite, redis, settings, client, user)
        assert await notes_status(suite, new["access_token"]) == (200, "")
        assert await refused_by_resource(suite, old["access_token"])


async def eventually_issued(suite, redis, settings, client, user) -> dict[str, Any]:
    """Tokens, once the token service's client cache has seen the enable (within a poll)."""
    deadline = time.monotonic() + 5
    while True:
        try:
            return await tokens(suite, redis, settings, client, user, scope="openid notes:read")
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def authenticates(token_url: str, http, client_id: str, secret: str) -> int:
    """Client authentication alone: /revoke answers 200 to any token once the client is in."""
    async with http.post(token_url + "/revoke", data={"token": "unknown"}, headers=basic(client_id, secret)) as r:
        status: int = r.status
        return status


async def test_rotate_secret_without_overlap_reaches_every_replica(suite, backends, settings, client):
    """Two token-service instances with warm client caches: the old secret is refused by both
    within 5 s, the new one accepted."""
    async with RunningApp(create_token_app(settings)) as first, RunningApp(create_token_app(settings)) as second:
        replicas = (first.url, second.url)
        await asyncio.sleep(settings.client_change_poll + 0.2)  # both watchers have polled: caches trusted
        for url in replicas:
            assert await authenticates(url, suite.http, client.client_id, client.secret) == 200
        rotated = await clients.rotate_secret(backends, client.client_id)
        assert rotated.client_secret and rotated.client_secret != client.secret
        for url in replicas:
            async def old_refused(url: str = url) -> bool:
                return await authenticates(url, suite.http, client.client_id, client.secret) == 401
            await eventually(old_refused)
            assert await authenticates(url, suite.http, client.client_id, rotated.client_secret) == 200


async def test_rotate_secret_with_overlap_keeps_the_old_one_until_it_ends(suite, backends, client):
    rotated = await clients.rotate_secret(backends, client.client_id, overlap_seconds=3)
    new_secret = rotated.client_secret
    assert new_secret is not None
    started = time.monotonic()

    async def new_works() -> bool:
        return await authenticates(suite.token_url, suite.http, client.client_id, new_secret) == 200

    await eventually(new_works)
    assert await authenticates(suite.token_url, suite.http, client.client_id, client.secret) == 200
    await asyncio.sleep(max(0.0, 3.2 - (time.monotonic() - started)))
    async with suite.http.post(suite.token_url + "/revoke", data={"token": "unknown"},
                               headers=basic(client.client_id, client.secret)) as response:
        assert (response.status, (await response.json())["error"]) == (401, "invalid_client")
    assert await new_works()


async def test_concurrent_updates_of_one_client_lose_no_write(backends, client, pool):
    added = [f"https://app.example/cb{i}" for i in range(8)]
    await asyncio.gather(*(clients.update(backends, client.client_id, clients.ClientUpdate(add_redirect_uris=(uri,)))
                           for uri in added))
    stored = await pool.fetchval("SELECT redirect_uris FROM clients WHERE client_id = $1", client.client_id)
    assert sorted(stored) == sorted([REDIRECT_URI, *added])


async def test_a_cache_entry_read_across_a_change_is_not_kept(backends, client, pool, settings):
    """The race the generation guards: a lookup that started before the watcher emptied the cache."""
    from shared.stores.pg_clients import CachedClients, PgClients

    cache = CachedClients(PgClients(pool), 60)
    pending = asyncio.ensure_future(cache.get(client.client_id))
    await asyncio.sleep(0)  # the lookup is on its way to PostgreSQL
    cache.invalidate()  # the watcher saw a change meanwhile
    assert (await pending) is not None
    await clients.update(backends, client.client_id, clients.ClientUpdate(name="Renamed"))
    found = await cache.get(client.client_id)
    assert found is not None and found.name == "Renamed"
