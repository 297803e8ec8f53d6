"""Consents as a collection over the admin API (``/admin/v1/consents?user=``), against real
PostgreSQL and Redis: listed page by page, one revoked with its grant's tokens (refused by the
real token and resource services), and every refusal as an RFC 9457 problem."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator

import pytest

from services.admin.core.pagination import encode_cursor
from services.token.app import create_app as create_token_app
from shared.stores.pg_consents import PgConsents
from tests.integration.admin.conftest import problem
from tests.integration.management.conftest import (
    REDIRECT_URI,
    Suite,
    eventually,
    notes_status,
    refresh,
    refused_by_resource,
    tokens,
)
from tests.integration.resource.conftest import resource_service
from tests.integration.resource.serving import RunningApp
from tests.support.factories import make_client, make_user

CONSENTS = "/admin/v1/consents"


async def send(admin, http, method, url, *, expect=200, token=None):
    async with http.request(method, admin.url + url, headers=admin.auth(token)) as response:
        assert response.status == expect, await response.text()
        return await response.json()


@pytest.fixture(scope="module")
async def services(admin, http) -> AsyncIterator[Suite]:
    """The token and resource services over the admin service's database and the run's Redis."""
    async with RunningApp(create_token_app(admin.settings)) as token:
        async with resource_service(admin.settings, token.url + "/jwks", check_revocation=True) as resource:
            yield Suite(token.url, resource.url, http)


async def test_a_user_s_consents_are_listed_page_by_page_and_past_the_end(admin, http):
    user = await make_user(admin.pool, admin.settings)
    made = [await make_client(admin.pool, name=f"App {i}") for i in range(3)]
    for client in made:
        await PgConsents(admin.pool).grant(user.id, client.client_id, frozenset({"openid", "profile"}))
    first = await send(admin, http, "GET", f"{CONSENTS}?user={user.username}&limit=2")
    second = await send(admin, http, "GET", f"{CONSENTS}?user={user.username}&limit=2&cursor={first['next_cursor']}")
    assert len(first["items"]) == 2 and second["next_cursor"] is None
    listed = first["items"] + second["items"]
    assert [c["client_id"] for c in listed] == sorted(c.client_id for c in made)
    assert {c["username"] for c in listed} == {user.username} and {c["scope"] for c in listed} == {"openid profile"}
    # The same list under the user.
    nested = await send(admin, http, "GET", f"/admin/v1/users/{user.username}/consents?limit=10")
    assert nested["items"] == listed
    last = encode_cursor(listed[-1]["client_id"])
    past = await send(admin, http, "GET", f"{CONSENTS}?user={user.username}&cursor={last}")
    assert past == {"items": [], "next_cursor": None}


async def test_revoking_a_consent_forgets_it_and_ends_that_grant_s_tokens(admin, http, services, redis):
    user = await make_user(admin.pool, admin.settings)
    client = await make_client(admin.pool, redirect_uris=(REDIRECT_URI,))
    other = await make_client(admin.pool, redirect_uris=(REDIRECT_URI,))
    for each in (client, other):
        await PgConsents(admin.pool).grant(user.id, each.client_id, frozenset({"openid", "notes:read"}))
    issued = await tokens(services, redis, admin.settings, client, user)
    kept = await tokens(services, redis, admin.settings, other, user)
    assert await notes_status(services, issued["access_token"]) == (200, "")

    revoked = await send(admin, http, "DELETE", f"{CONSENTS}?user={user.username}&client_id={client.client_id}")
    assert revoked == {"username": user.username, "client_id": client.client_id, "consent_deleted": True,
                       "refresh_tokens_revoked": 1}
    assert await PgConsents(admin.pool).granted_scopes(user.id, client.client_id) == frozenset()
    status, body = await refresh(services, client.client_id, client.secret, issued["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    await eventually(functools.partial(refused_by_resource, services, issued["access_token"]))
    # The user's grant to another client is untouched.
    assert await notes_status(services, kept["access_token"]) == (200, "")
    status, _ = await refresh(services, other.client_id, other.secret, kept["refresh_token"])
    assert status == 200
    audit = await admin.pool.fetchrow("SELECT client_id, user_id, details FROM audit_events "
                                      "WHERE event_type = 'consent_revoked' ORDER BY id DESC LIMIT 1")
    assert (audit["client_id"], audit["user_id"], audit["details"]) == (client.client_id, user.id,
                                                                        {"actor": "admin-token:ops"})
    listed = await send(admin, http, "GET", f"{CONSENTS}?user={user.username}")
    assert [c["client_id"] for c in listed["items"]] == [other.client_id]


@pytest.mark.parametrize(("method", "query", "status", "detail"), [
    ("GET", "", 400, "'user' is required"),
    ("GET", "?user=", 400, "'user' is required"),
    ("GET", "?user=nobody", 404, "no user 'nobody'"),
    ("GET", "?user=x&client_id=y", 400, "unknown query parameter 'client_id'"),
    ("DELETE", "?user=nobody", 400, "'client_id' is required"),
    ("DELETE", "?client_id=lk_x", 400, "'user' is required"),
    ("DELETE", "?user=nobody&client_id=lk_x", 404, "no user 'nobody'"),
], ids=["no user", "empty user", "unknown user", "unknown parameter", "no client", "revoke without user",
        "revoke for an unknown user"])
async def test_refusals_are_problems(admin, http, method, query, status, detail):
    async with http.request(method, admin.url + CONSENTS + query, headers=admin.auth()) as response:
        assert detail in (await problem(response, status))["detail"]


async def test_revoking_for_an_unknown_client_is_a_404(admin, http):
    user = await make_user(admin.pool, admin.settings)
    async with http.delete(f"{admin.url}{CONSENTS}?user={user.username}&client_id=lk_nothing",
                           headers=admin.auth()) as response:
        assert "lk_nothing" in (await problem(response, 404))["detail"]


async def test_a_read_only_token_lists_but_cannot_revoke(admin, http):
    user = await make_user(admin.pool, admin.settings)
    client = await make_client(admin.pool)
    await PgConsents(admin.pool).grant(user.id, client.client_id, frozenset({"openid"}))
    listed = await send(admin, http, "GET", f"{CONSENTS}?user={user.username}", token=admin.read_only_token)
    assert [c["client_id"] for c in listed["items"]] == [client.client_id]
    async with http.delete(f"{admin.url}{CONSENTS}?user={user.username}&client_id={client.client_id}",
                           headers=admin.auth(admin.read_only_token)) as response:
        await problem(response, 403)
    assert await PgConsents(admin.pool).granted_scopes(user.id, client.client_id) == frozenset({"openid"})


async def test_a_wrong_token_is_a_401(admin, http):
    for method in ("GET", "DELETE"):
        async with http.request(method, f"{admin.url}{CONSENTS}?user=x&client_id=y",
                                headers={"Authorization": "Bearer lka_wrong"}) as response:
            await problem(response, 401)
