"""/api/notes over the real service and PostgreSQL: scopes guard it, and a user only ever
reaches their own rows.
"""

from __future__ import annotations

import uuid

import pytest

from tests.integration.resource.minting import bearer_header
from tests.support.factories import make_user


@pytest.fixture
async def other_user(pool, settings):
    return await make_user(pool, settings, name="Grace Hopper", email="grace@example.com")


async def _post(http, url, token, document):
    async with http.post(url + "/api/notes", json=document, headers=bearer_header(token)) as response:
        return response.status, await response.json(), response.headers


async def _list(http, url, token):
    async with http.get(url + "/api/notes", headers=bearer_header(token)) as response:
        assert response.status == 200
        return [n["body"] for n in (await response.json())["notes"]]


async def test_create_then_list_newest_first(http, resource_url, user, token_for, pool):
    token = token_for(user, "notes:read notes:write")
    for body in ("first", "second"):
        status, note, headers = await _post(http, resource_url, token, {"body": body})
        assert status == 201
        assert headers["Location"] == f"/api/notes/{note['id']}"
    assert await _list(http, resource_url, token) == ["second", "first"]
    row = await pool.fetchrow("SELECT user_id, body FROM notes WHERE id = $1", uuid.UUID(note["id"]))
    assert (row["user_id"], row["body"]) == (user.id, "second")


async def test_users_only_ever_see_their_own_notes(http, resource_url, user, other_user, token_for):
    mine = token_for(user, "notes:read notes:write")
    theirs = token_for(other_user, "notes:read notes:write")
    _, note, _ = await _post(http, resource_url, mine, {"body": "private to Ada"})
    await _post(http, resource_url, theirs, {"body": "private to Grace"})
    assert await _list(http, resource_url, mine) == ["private to Ada"]
    assert await _list(http, resource_url, theirs) == ["private to Grace"]
    async with http.get(f"{resource_url}/api/notes/{note['id']}", headers=bearer_header(mine)) as response:
        assert response.status == 200 and (await response.json())["body"] == "private to Ada"
    async with http.get(f"{resource_url}/api/notes/{note['id']}", headers=bearer_header(theirs)) as response:
        assert response.status == 404  # not "forbidden": another user's note does not exist for you


async def test_the_owner_cannot_be_chosen_by_the_request(http, resource_url, user, other_user, token_for):
    status, error, _ = await _post(http, resource_url, token_for(user, "notes:write"),
                                   {"body": "sneaky", "user_id": str(other_user.id)})
    assert (status, error["error"]) == (400, "invalid_request")
    assert await _list(http, resource_url, token_for(other_user, "notes:read")) == []


@pytest.mark.parametrize("scope, method, status", [
    pytest.param("notes:write", "GET", 403, id="write scope cannot read"),
    pytest.param("notes:read", "POST", 403, id="read scope cannot write"),
    pytest.param("openid profile", "GET", 403, id="no notes scope at all"),
])
async def test_scopes_guard_each_method(http, resource_url, user, token_for, scope, method, status):
    async with http.request(method, resource_url + "/api/notes", json={"body": "x"},
                            headers=bearer_header(token_for(user, scope))) as response:
        assert response.status == status
        needed = "notes:read" if method == "GET" else "notes:write"
        assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
        assert f'scope="{needed}"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("document, raw, content_type", [
    pytest.param(None, b"{not json", "application/json", id="broken JSON"),
    pytest.param(None, b"body=x", "application/x-www-form-urlencoded", id="not JSON at all"),
    pytest.param({"body": ""}, None, None, id="empty body"),
    pytest.param({"body": "x" * 2001}, None, None, id="over LATCHKEY_NOTE_MAX_CHARS"),
])
async def test_bad_notes_are_invalid_request(http, resource_url, user, token_for, pool, document, raw, content_type):
    token = token_for(user, "notes:read notes:write")
    kwargs = {"json": document} if raw is None else {"data": raw, "headers": {"Content-Type": content_type}}
    kwargs.setdefault("headers", {}).update(bearer_header(token))
    async with http.post(resource_url + "/api/notes", **kwargs) as response:
        assert response.status == 400
        assert (await response.json())["error"] == "invalid_request"
    assert await pool.fetchval("SELECT count(*) FROM notes WHERE user_id = $1", user.id) == 0


async def test_oversized_request_body_is_refused(http, resource_url, user, token_for, settings):
    token = token_for(user, "notes:write")
    status, _, _ = await _post(http, resource_url, token, {"body": "x" * (settings.max_body_bytes + 1)})
    assert status == 413


async def test_note_ids_that_are_not_uuids_are_not_found(http, resource_url, user, token_for):
    async with http.get(resource_url + "/api/notes/../../users", headers=bearer_header(token_for(user,
                                                                                                 "notes:read"))) as r:
        assert r.status == 404
    async with http.get(resource_url + "/api/notes/not-a-uuid", headers=bearer_header(token_for(user,
                                                                                                "notes:read"))) as r:
        assert r.status == 404


async def _note_request(http, url, token, method, note_id):
    path = "/api/notes" if method != "GET one" else f"/api/notes/{note_id}"
    kwargs = {"json": {"body": "written after"}} if method == "POST" else {}
    async with http.request(method.split()[0], url + path, headers=bearer_header(token), **kwargs) as response:
        return response.status, response.headers.get("WWW-Authenticate", ""), await response.json()


@pytest.mark.parametrize("method", ["GET", "GET one", "POST"])
@pytest.mark.parametrize("change", [
    pytest.param("UPDATE users SET disabled = true WHERE id = $1", id="disabled user"),
    pytest.param("DELETE FROM users WHERE id = $1", id="deleted user"),
])
async def test_a_disabled_or_deleted_users_token_is_invalid_token(http, resource_url, user, token_for, pool,
                                                                  method, change):
    """The same answer as /userinfo gives: the notes API never serves an account that was switched off."""
    token = token_for(user, "notes:read notes:write")
    status, note, _ = await _post(http, resource_url, token, {"body": "written before"})
    assert status == 201
    await pool.execute(change, user.id)
    status, challenge, body = await _note_request(http, resource_url, token, method, note["id"])
    assert status == 401
    assert body["error"] == "invalid_token" and 'error="invalid_token"' in challenge
    assert await pool.fetchval("SELECT count(*) FROM notes WHERE user_id = $1 AND body = 'written after'",
                               user.id) == 0


async def test_an_enabled_user_without_notes_gets_an_empty_list(http, resource_url, user, token_for):
    assert await _list(http, resource_url, token_for(user, "notes:read")) == []


async def test_an_unknown_note_of_an_enabled_user_is_not_found(http, resource_url, user, token_for):
    async with http.get(f"{resource_url}/api/notes/{uuid.uuid4()}",
                        headers=bearer_header(token_for(user, "notes:read"))) as response:
        assert response.status == 404
