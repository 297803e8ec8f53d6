"""User and consent writes over the admin API, against real PostgreSQL and Redis: create (the
password hashed, never answered or logged), update, disable/enable (sessions ended), set the
password, delete; a user's consents listed and revoked; every refusal as a problem."""

from __future__ import annotations

import logging
import time

import pytest

from shared.management.users import passwords_for
from shared.stores.pg_consents import PgConsents
from shared.stores.redis_sessions import RedisSessions, Session
from tests.integration.admin.conftest import problem
from tests.support.factories import make_client, make_user

PASSWORD = "a long enough secret phrase"


async def send(admin, http, method, path, body=None, *, expect=200):
    async with http.request(method, admin.url + path, json=body, headers=admin.auth()) as response:
        assert response.status == expect, await response.text()
        return await response.json()


async def password_hash(admin, username):
    return await admin.pool.fetchval("SELECT password_hash FROM users WHERE username = $1", username)


async def verifies(admin, username, password):
    return await passwords_for(admin.settings).verify(await password_hash(admin, username), password)


async def test_create_hashes_the_password_and_never_shows_or_logs_it(admin, http, caplog):
    caplog.set_level(logging.DEBUG)
    body = {"username": "alice", "password": PASSWORD, "email": "alice@example.com", "name": "Alice"}
    async with http.post(admin.url + "/admin/v1/users", json=body, headers=admin.auth()) as response:
        assert response.status == 201, await response.text()
        created = await response.json()
        assert response.headers["Location"] == "/admin/v1/users/alice"
    assert created == {"id": created["id"], "username": "alice", "email": "alice@example.com",
                       "email_verified": False, "name": "Alice", "disabled": False}
    assert await verifies(admin, "alice", PASSWORD) and PASSWORD not in await password_hash(admin, "alice")
    async with http.post(admin.url + "/admin/v1/users", json={"username": "bob", "password": PASSWORD[:5]},
                         headers=admin.auth()) as response:
        assert PASSWORD[:5] not in (await problem(response, 422))["detail"]
    assert PASSWORD not in caplog.text and PASSWORD[:5] not in caplog.text
    audit = await admin.pool.fetchrow("SELECT user_id, details FROM audit_events WHERE event_type = 'user_created' "
                                      "ORDER BY id DESC LIMIT 1")
    assert (str(audit["user_id"]), audit["details"]) == (created["id"], {"actor": "admin-token:ops"})


async def test_a_new_users_location_is_its_address_whatever_its_name_holds(admin, http):
    """RFC 9110 §10.2.2: a URI reference, so a name's "/", "?", "#" or non-ASCII is percent-encoded."""
    async with http.post(admin.url + "/admin/v1/users", json={"username": "a/b?c#dé", "password": PASSWORD},
                         headers=admin.auth()) as response:
        assert response.status == 201, await response.text()
        location = response.headers["Location"]
    assert location == "/admin/v1/users/a%2Fb%3Fc%23d%C3%A9"
    assert (await send(admin, http, "GET", location))["username"] == "a/b?c#dé"


@pytest.mark.parametrize(("body", "status", "detail"), [
    ({"username": "dup", "password": PASSWORD}, 409, "already exists"),
    ({"username": "DUP", "password": PASSWORD}, 409, "already exists"),
    ({"username": "carol", "password": "short"}, 422, "at least 8"),
    ({"username": "carol"}, 422, "password is required"),
    ({"username": "carol", "password": 12345678}, 422, "password must be a string"),
    ({"username": "has space", "password": PASSWORD}, 422, "username"),
    ({"username": "bob\u0001x", "password": PASSWORD}, 422, "control characters"),
    ({"username": "carol", "password": "correct\thorse battery"}, 422, "control characters"),
    ({"username": "carol", "password": PASSWORD, "email": "not-an-address"}, 422, "email address"),
    ({"username": "carol", "password": PASSWORD, "admin": True}, 422, "unknown member 'admin'"),
], ids=["duplicate", "duplicate in another case", "short password", "no password", "password a number",
        "white space", "a control character in the username", "a tab in the password", "bad email",
        "unknown member"])
async def test_create_refuses_and_writes_nothing(admin, http, body, status, detail):
    if not await admin.pool.fetchval("SELECT 1 FROM users WHERE username = 'dup'"):
        await make_user(admin.pool, admin.settings, username="dup")
    before = await admin.pool.fetchval("SELECT count(*) FROM users")
    async with http.post(admin.url + "/admin/v1/users", json=body, headers=admin.auth()) as response:
        assert detail in (await problem(response, status))["detail"]
    assert await admin.pool.fetchval("SELECT count(*) FROM users") == before


@pytest.mark.parametrize("body", [
    b'{"username": "x", "password": ', b"[" * 5000 + b"]" * 5000,
    b'{"username": NaN, "password": "correct horse battery"}',
    b'{"username": "a", "username": "b", "password": "correct horse battery"}',
], ids=["cut short", "arrays nested 5000 deep", "NaN", "a member named twice"])
async def test_create_with_malformed_json_is_a_400_problem(admin, http, body):
    async with http.post(admin.url + "/admin/v1/users", data=body,
                         headers={**admin.auth(), "Content-Type": "application/json"}) as response:
        assert (await problem(response, 400))["type"] == "urn:latchkey:problem:malformed-json"


async def test_update_changes_email_and_name_and_null_clears(admin, http):
    user = await make_user(admin.pool, admin.settings)
    path = f"/admin/v1/users/{user.username}"
    updated = await send(admin, http, "PATCH", path, {"email": "new@example.com"})
    assert (updated["email"], updated["email_verified"], updated["name"]) == ("new@example.com", False, "Test User")
    cleared = await send(admin, http, "PATCH", path, {"name": None})
    assert (cleared["email"], cleared["name"]) == ("new@example.com", None)
    for body, detail in (({}, "nothing to change"), ({"name": 5}, "name must be a string"),
                         ({"username": "x"}, "unknown member")):
        async with http.patch(admin.url + path, json=body, headers=admin.auth()) as response:
            assert detail in (await problem(response, 422))["detail"]


async def test_disable_ends_sessions_and_enable_restores_the_login(admin, http, redis):
    user = await make_user(admin.pool, admin.settings)
    sessions = RedisSessions(redis, admin.settings.redis_prefix)
    await sessions.start(Session(str(user.id), user.username, int(time.time()), "csrf"), 3600)
    disabled = await send(admin, http, "POST", f"/admin/v1/users/{user.username}/disable")
    assert disabled["disabled"] is True
    assert await sessions.of_user(str(user.id)) == []
    assert await admin.pool.fetchval("SELECT disabled FROM users WHERE id = $1", user.id)
    enabled = await send(admin, http, "POST", f"/admin/v1/users/{user.username}/enable")
    assert enabled["disabled"] is False
    assert not await admin.pool.fetchval("SELECT disabled FROM users WHERE id = $1", user.id)


async def test_set_password_replaces_the_hash(admin, http):
    user = await make_user(admin.pool, admin.settings)
    path = f"/admin/v1/users/{user.username}/password"
    await send(admin, http, "PUT", path, {"password": PASSWORD})
    assert await verifies(admin, user.username, PASSWORD)
    assert not await verifies(admin, user.username, "correct horse battery")
    before = await password_hash(admin, user.username)
    for body in ({"password": "short"}, {}, {"password": None}, {"password": PASSWORD, "old": "x"}):
        async with http.put(admin.url + path, json=body, headers=admin.auth()) as response:
            await problem(response, 422)
    assert await password_hash(admin, user.username) == before


async def test_delete_answers_the_user_as_it_was_then_404(admin, http):
    user = await make_user(admin.pool, admin.settings)
    deleted = await send(admin, http, "DELETE", f"/admin/v1/users/{user.username}")
    assert deleted["id"] == str(user.id)
    assert await admin.pool.fetchval("SELECT count(*) FROM users WHERE id = $1", user.id) == 0
    async with http.delete(admin.url + f"/admin/v1/users/{user.username}", headers=admin.auth()) as response:
        await problem(response, 404)


@pytest.mark.parametrize(("method", "suffix", "body"), [
    ("PATCH", "", {"name": "x"}), ("DELETE", "", None), ("POST", "/disable", None), ("POST", "/enable", None),
    ("PUT", "/password", {"password": PASSWORD}), ("GET", "/consents", None), ("DELETE", "/consents/lk_x", None),
])
async def test_an_unknown_user_is_a_404_problem(admin, http, method, suffix, body):
    async with http.request(method, admin.url + "/admin/v1/users/nobody" + suffix, json=body,
                            headers=admin.auth()) as response:
        assert "nobody" in (await problem(response, 404))["detail"]


async def test_consents_are_listed_by_client_and_one_is_revoked(admin, http):
    user = await make_user(admin.pool, admin.settings)
    made = [await make_client(admin.pool, name=f"App {i}") for i in range(3)]
    for client in made:
        await PgConsents(admin.pool).grant(user.id, client.client_id, frozenset({"openid", "profile"}))
    path = f"/admin/v1/users/{user.username}/consents"
    first = await send(admin, http, "GET", path + "?limit=2")
    second = await send(admin, http, "GET", f"{path}?limit=2&cursor={first['next_cursor']}")
    listed = first["items"] + second["items"]
    assert second["next_cursor"] is None and len(first["items"]) == 2
    assert [c["client_id"] for c in listed] == sorted(c.client_id for c in made)
    assert listed[0] == {"username": user.username, "client_id": listed[0]["client_id"],
                         "client_name": listed[0]["client_name"], "scope": "openid profile",
                         "updated_at": listed[0]["updated_at"]}

    target = made[1].client_id
    revoked = await send(admin, http, "DELETE", f"{path}/{target}")
    assert revoked == {"username": user.username, "client_id": target, "consent_deleted": True,
                       "refresh_tokens_revoked": 0}
    assert await PgConsents(admin.pool).granted_scopes(user.id, target) == frozenset()
    remaining = (await send(admin, http, "GET", path))["items"]
    assert sorted(c["client_id"] for c in remaining) == sorted(c.client_id for c in made if c.client_id != target)
    async with http.delete(admin.url + f"{path}/lk_nothing", headers=admin.auth()) as response:
        assert "lk_nothing" in (await problem(response, 404))["detail"]
