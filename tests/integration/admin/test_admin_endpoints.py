"""Every admin API endpoint over real PostgreSQL: keys, rotation, audit, admin tokens, clients, users."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from services.admin.app import create_app
from services.admin.core.pagination import encode_cursor
from shared.models import AuditEvent
from shared.stores.pg_audit import PgAudit
from tests.integration.admin.conftest import problem
from tests.integration.resource.serving import RunningApp
from tests.support.factories import NOTES_API, make_client, make_user

JSON = {"Content-Type": "application/json"}


async def get(admin, http, path, **params):
    async with http.get(admin.url + path, params=params, headers=admin.auth()) as response:
        assert response.status == 200, await response.text()
        assert response.content_type == "application/json"
        return await response.json()


async def walk(admin, http, path, limit, **params):
    """Every page of a list, following next_cursor."""
    pages, cursor = [], None
    while True:
        page = await get(admin, http, path, limit=str(limit), **params, **({"cursor": cursor} if cursor else {}))
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


async def test_rotate_announces_a_new_key_per_algorithm_and_audits_the_token_name(admin, http):
    async with http.post(admin.url + "/admin/v1/keys/rotate", headers=admin.auth()) as response:
        assert response.status == 201, await response.text()
        created = (await response.json())["keys"]
    ring = admin.settings.key_ring_algs
    assert sorted(k["alg"] for k in created) == sorted(ring)
    # The first keys of a key ring sign at once (nobody holds a token yet), as `latchkey keys rotate`.
    assert {k["status"] for k in created} == {"active"}
    async with http.post(admin.url + "/admin/v1/keys/rotate", json={"alg": "RS256"}, headers=admin.auth()) as response:
        assert response.status == 201
        [announced] = (await response.json())["keys"]
    assert announced["alg"] == "RS256" and announced["status"] == "next"
    row = await admin.pool.fetchrow("SELECT details FROM audit_events WHERE event_type = 'signing_keys_rotated' "
                                    "ORDER BY id DESC LIMIT 1")
    assert row["details"] == {"actor": "admin-token:ops", "kids": [announced["kid"]]}


async def test_keys_list_shows_public_fields_only(admin, http):
    pages = await walk(admin, http, "/admin/v1/keys", 2)
    keys = [k for page in pages for k in page]
    assert len(keys) == await admin.pool.fetchval("SELECT count(*) FROM signing_keys") >= 3
    assert all(set(k) == {"kid", "alg", "status", "created_at", "activates_at", "retired_at", "publish_until"}
               for k in keys)
    assert all(len(page) == 2 for page in pages[:-1])


@pytest.mark.parametrize(("body", "status"), [
    (b'{"alg": "HS256"}', 422), (b'{"algorithm": "RS256"}', 422), (b"[]", 422), (b"{", 400),
    (b'{"alg": "EdDSA"}', 422),  # a known algorithm, but not in the key ring
    (b" ", 400),  # blanks are not "no body" (found by schemathesis)
], ids=["unknown alg", "unknown member", "not an object", "malformed", "alg outside the key ring", "blanks"])
async def test_rotate_refuses_a_bad_body_and_writes_nothing(admin, http, body, status):
    before = await admin.pool.fetchval("SELECT count(*) FROM signing_keys")
    async with http.post(admin.url + "/admin/v1/keys/rotate", data=body, headers={**admin.auth(), **JSON}) as response:
        await problem(response, status)
    assert await admin.pool.fetchval("SELECT count(*) FROM signing_keys") == before


async def test_rotate_without_the_key_encryption_key_is_a_409_that_says_where_to_rotate(admin, http):
    """Only the token service holds LATCHKEY_KEY_ENCRYPTION_KEY in the shipped deployment."""
    before = await admin.pool.fetchval("SELECT count(*) FROM signing_keys")
    async with RunningApp(create_app(dataclasses.replace(admin.settings, key_encryption_key=b""))) as keyless:
        async with http.post(keyless.url + "/admin/v1/keys/rotate", headers=admin.auth()) as response:
            body = await problem(response, 409)
    assert body["title"] == "Key-encryption key not configured"
    assert "LATCHKEY_KEY_ENCRYPTION_KEY" in body["detail"] and "latchkey keys rotate" in body["detail"]
    assert await admin.pool.fetchval("SELECT count(*) FROM signing_keys") == before


async def test_clients_in_rfc7591_names_paged_by_client_id(admin, http):
    made = [await make_client(admin.pool, name=f"App {i}") for i in range(5)]
    made.append(await make_client(admin.pool, name="SPA", public=True, id_token_alg="ES256"))
    pages = await walk(admin, http, "/admin/v1/clients", 4)
    assert [len(p) for p in pages] == [4, 2]
    listed = [c for page in pages for c in page]
    assert [c["client_id"] for c in listed] == sorted(m.client_id for m in made)
    spa = await get(admin, http, f"/admin/v1/clients/{made[-1].client_id}")
    assert spa == {"client_id": made[-1].client_id, "client_name": "SPA",
                   "redirect_uris": ["https://app.example/callback"],
                   "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
                   "token_endpoint_auth_method": "none",
                   "scope": "email notes:read notes:write offline_access openid profile", "public": True,
                   "id_token_signed_response_alg": "ES256", "post_logout_redirect_uris": [], "client_uri": None,
                   "backchannel_logout_uri": None, "backchannel_logout_session_required": False,
                   "allowed_cors_origins": [], "disabled": False, "apis": [NOTES_API]}
    assert all("secret" not in key for c in listed for key in c)


async def test_users_paged_by_username_without_password_hashes(admin, http):
    names = sorted(f"user{i}" for i in range(5))
    users = [await make_user(admin.pool, admin.settings, username=n) for n in names]
    pages = await walk(admin, http, "/admin/v1/users", 2)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [u["username"] for page in pages for u in page] == names
    shown = await get(admin, http, "/admin/v1/users/USER3")  # usernames are case-insensitive
    assert shown == {"id": str(users[3].id), "username": "user3", "email": "user@example.com",
                     "email_verified": True, "name": "Test User", "disabled": False}


@pytest.mark.parametrize("path", ["/admin/v1/users/nobody", "/admin/v1/clients/lk_nothing",
                                  "/admin/v1/users/a%00b"])
async def test_an_unknown_record_is_a_404_problem(admin, http, path):
    async with http.get(admin.url + path, headers=admin.auth()) as response:
        body = await problem(response, 404)
    assert body["type"] == "urn:latchkey:problem:not-found"


@pytest.mark.parametrize("path", ["/admin/v1/users", "/admin/v1/clients", "/admin/v1/audit", "/admin/v1/keys",
                                  "/admin/v1/admin-tokens"])
async def test_a_cursor_past_the_end_is_an_empty_page(admin, http, path):
    after = "\U0010ffff" if path in ("/admin/v1/users", "/admin/v1/clients") else (0 if path == "/admin/v1/audit"
                                                                                  else 10**9)
    page = await get(admin, http, path, cursor=encode_cursor(after))
    assert page == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("params", [
    {"cursor": "not-a-cursor!"}, {"cursor": encode_cursor("a string where an id goes")}, {"cursor": "e30"},
    {"limit": "0"}, {"limit": "100000"}, {"limit": "ten"}, {"limit": "5", "other": "1"},
], ids=["garbage", "wrong key type", "empty object", "zero", "over the maximum", "not a number", "unknown"])
async def test_a_malformed_cursor_or_limit_is_a_400_problem(admin, http, params):
    async with http.get(admin.url + "/admin/v1/audit", params=params, headers=admin.auth()) as response:
        body = await problem(response, 400)
    assert body["type"] == "urn:latchkey:problem:invalid-parameter"


@pytest.mark.parametrize("path, after", [
    ("/admin/v1/users", "\u0000"), ("/admin/v1/clients", "a\u0000b"), ("/admin/v1/clients", "x" * 5000),
    ("/admin/v1/audit", 2**63), ("/admin/v1/audit", -(2**63) - 1),
], ids=["NUL in a username", "NUL in a client id", "a key longer than any", "past bigint", "below bigint"])
async def test_a_hand_made_cursor_no_key_can_have_is_a_400_problem(admin, http, path, after):
    """Cursors are not signed: one PostgreSQL could not compare with is refused, never a 500."""
    async with http.get(admin.url + path, params={"cursor": encode_cursor(after)}, headers=admin.auth()) as response:
        assert (await problem(response, 400))["type"] == "urn:latchkey:problem:invalid-parameter"


async def test_a_repeated_parameter_is_a_400_problem(admin, http):
    async with http.get(admin.url + "/admin/v1/users?limit=1&limit=2", headers=admin.auth()) as response:
        await problem(response, 400)


async def test_audit_is_newest_first_and_filtered(admin, http):
    audit = PgAudit(admin.pool)
    user = await make_user(admin.pool, admin.settings, username="audited")
    await audit.record(AuditEvent("code_replay", client_id="lk_audit_a", user_id=str(user.id)))
    await audit.record(AuditEvent("refresh_reuse", client_id="lk_audit_b"))
    await audit.record(AuditEvent("code_replay", client_id="lk_audit_b", user_id=str(user.id)))
    ids = [r["id"] for r in await admin.pool.fetch("SELECT id FROM audit_events ORDER BY id DESC LIMIT 3")]

    everything = [e for page in await walk(admin, http, "/admin/v1/audit", 2) for e in page]
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
    assert [e["id"] for e in everything[:3]] == ids

    def ids_of(page):
        return [e["id"] for e in page["items"]]

    assert ids_of(await get(admin, http, "/admin/v1/audit", event="code_replay", user="audited")) == [ids[0], ids[2]]
    assert ids_of(await get(admin, http, "/admin/v1/audit", user=str(user.id))) == [ids[0], ids[2]]
    assert ids_of(await get(admin, http, "/admin/v1/audit", client_id="lk_audit_b")) == ids[:2]
    assert ids_of(await get(admin, http, "/admin/v1/audit", client_id="lk_audit_b", event="refresh_reuse")) == [ids[1]]
    now = datetime.now(UTC)
    assert ids_of(await get(admin, http, "/admin/v1/audit", client_id="lk_audit_a",
                            since=(now - timedelta(minutes=5)).isoformat())) == [ids[2]]
    assert ids_of(await get(admin, http, "/admin/v1/audit", client_id="lk_audit_a",
                            until=(now - timedelta(minutes=5)).isoformat())) == []
    assert ids_of(await get(admin, http, "/admin/v1/audit", client_id="lk_audit_a",
                            since="2000-01-01T00:00:00Z", until="2999-01-01")) == [ids[2]]
    async with http.get(admin.url + "/admin/v1/audit", params={"since": "yesterday"}, headers=admin.auth()) as r:
        assert "since must be an ISO 8601 date-time" in (await problem(r, 400))["detail"]


async def test_admin_tokens_are_listed_without_values_and_revoked_over_the_api_with_an_audit_row(admin, http):
    from shared.management import admin_tokens

    async with admin.pool.acquire() as conn:
        leaked = await admin_tokens.create(conn, "leaked-ci")
    listed = [t for page in await walk(admin, http, "/admin/v1/admin-tokens", 1) for t in page]
    assert {"ops", "auditor", "leaked-ci"} <= {t["name"] for t in listed}
    assert all(set(t) == {"name", "read_only", "created_at", "revoked_at"} for t in listed)
    async with http.delete(admin.url + "/admin/v1/admin-tokens/leaked-ci", headers=admin.auth()) as response:
        assert response.status == 200
        assert (await response.json())["revoked_at"] is not None
    async with http.get(admin.url + "/admin/v1/keys", headers=admin.auth(leaked.token)) as response:
        await problem(response, 401)
    async with http.delete(admin.url + "/admin/v1/admin-tokens/leaked-ci", headers=admin.auth()) as response:
        await problem(response, 404)  # already revoked
    row = await admin.pool.fetchrow("SELECT details FROM audit_events WHERE event_type = 'admin_token_revoked' "
                                    "ORDER BY id DESC LIMIT 1")
    assert row["details"] == {"actor": "admin-token:ops", "name": "leaked-ci"}
