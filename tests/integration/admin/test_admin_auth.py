"""Who may call the admin API: every refusal is the same RFC 9457 problem, and a read-only token
is refused a change before its body is even looked at."""

from __future__ import annotations

import pytest

from shared.management import admin_tokens
from shared.stores.pg_consents import PgConsents
from tests.integration.admin.conftest import problem
from tests.support.factories import make_client, make_user

# Every write route with a record that exists, so a missed permission check would change something.
WRITES = [
    ("POST", "/admin/v1/clients"), ("PATCH", "/admin/v1/clients/{client_id}"),
    ("DELETE", "/admin/v1/clients/{client_id}"), ("POST", "/admin/v1/clients/{client_id}/disable"),
    ("POST", "/admin/v1/clients/{client_id}/enable"), ("POST", "/admin/v1/clients/{client_id}/rotate-secret"),
    ("POST", "/admin/v1/users"), ("PATCH", "/admin/v1/users/{username}"), ("DELETE", "/admin/v1/users/{username}"),
    ("POST", "/admin/v1/users/{username}/disable"), ("POST", "/admin/v1/users/{username}/enable"),
    ("PUT", "/admin/v1/users/{username}/password"), ("DELETE", "/admin/v1/users/{username}/consents/{client_id}"),
]

UNAUTHORIZED = {"type": "urn:latchkey:problem:unauthorized", "title": "Unauthorized", "status": 401,
                "detail": "a valid admin token is required"}


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer lka_wrong"},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic b3BzOnNlY3JldA=="},
    {"Authorization": "lka_no_scheme"},
], ids=["missing", "wrong token", "empty bearer", "basic scheme", "no scheme"])
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/admin/v1/keys"), ("POST", "/admin/v1/keys/rotate"), ("GET", "/admin/v1/openapi.json"),
    ("GET", "/admin/v1/users/nobody"), ("GET", "/admin/v1/no-such-thing"),
])
async def test_without_a_valid_token_every_route_is_the_same_401(admin, http, headers, method, path):
    async with http.request(method, admin.url + path, headers=headers, data=b'{"alg": "nope"}') as response:
        body = await problem(response, 401)
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="latchkey-admin"'
        assert response.headers["Cache-Control"] == "no-store"
    assert body == UNAUTHORIZED  # nothing about which part was wrong, or whether the path exists


async def test_the_real_token_with_a_changed_character_is_refused(admin, http):
    wrong = admin.token[:-1] + ("A" if admin.token[-1] != "A" else "B")
    async with http.get(admin.url + "/admin/v1/keys", headers=admin.auth(wrong)) as response:
        assert await problem(response, 401) == UNAUTHORIZED


async def test_a_revoked_token_is_refused_at_once(admin, http):
    async with admin.pool.acquire() as conn:
        created = await admin_tokens.create(conn, "short-lived")
    async with http.get(admin.url + "/admin/v1/keys", headers=admin.auth(created.token)) as response:
        assert response.status == 200
    async with admin.pool.acquire() as conn:
        await admin_tokens.revoke(conn, "short-lived")
    async with http.get(admin.url + "/admin/v1/keys", headers=admin.auth(created.token)) as response:
        assert await problem(response, 401) == UNAUTHORIZED


async def test_health_checks_need_no_token(admin, http):
    async with http.get(admin.url + "/healthz") as response:
        assert response.status == 200


async def test_a_read_only_token_reads(admin, http):
    async with http.get(admin.url + "/admin/v1/audit", headers=admin.auth(admin.read_only_token)) as response:
        assert response.status == 200


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/admin/v1/keys/rotate", b'{"alg": "not an algorithm", "extra": 1}'),
    ("POST", "/admin/v1/keys/rotate", b"not json at all"),
    ("POST", "/admin/v1/keys/rotate", b""),
    ("DELETE", "/admin/v1/admin-tokens/ops", b""),
    ("DELETE", "/admin/v1/admin-tokens/no-such-token", b""),
    *((method, path, body) for method, path in WRITES for body in (b'{"client_name": 1, "extra": true}', b"{"))
], ids=["invalid body", "malformed body", "empty body", "revoke another token", "revoke unknown token",
        *(f"{method} {path} {kind}" for method, path in WRITES for kind in ("invalid body", "malformed body"))])
async def test_a_read_only_token_gets_403_on_any_write_before_its_body_is_validated(admin, http, victim, method,
                                                                                   path, body):
    before = await snapshot(admin)
    async with http.request(method, admin.url + path.format(**victim), data=body, headers={
            **admin.auth(admin.read_only_token), "Content-Type": "application/json"}) as response:
        body_ = await problem(response, 403)
    assert body_["type"] == "urn:latchkey:problem:read-only-token"
    assert await snapshot(admin) == before


@pytest.fixture(scope="module")
async def victim(admin):
    """A client, a user and the user's consent to it: what a missed permission check would change."""
    client = await make_client(admin.pool)
    user = await make_user(admin.pool, admin.settings)
    await PgConsents(admin.pool).grant(user.id, client.client_id, frozenset({"openid"}))
    return {"client_id": client.client_id, "username": user.username}


async def snapshot(admin):
    """Every row a write of the admin API could change."""
    tables = ("signing_keys", "clients", "users", "consents", "admin_tokens", "audit_events")
    async with admin.pool.acquire() as conn:
        return {t: [tuple(r) for r in await conn.fetch(f"SELECT * FROM {t} ORDER BY 1")] for t in tables}


async def test_unknown_path_and_method_are_problems_too(admin, http):
    async with http.get(admin.url + "/admin/v1/nothing-here", headers=admin.auth()) as response:
        body = await problem(response, 404)
    assert body["type"] == "about:blank" and body["title"] == "Not Found" and "openapi.json" in body["detail"]
    async with http.put(admin.url + "/admin/v1/keys", headers=admin.auth()) as response:
        assert "GET" in (await problem(response, 405))["detail"]
        assert "GET" in response.headers["Allow"]


async def test_a_body_over_the_limit_is_a_413_problem(admin, http):
    big = b'{"alg": "' + b"x" * (admin.settings.max_body_bytes + 10) + b'"}'
    async with http.post(admin.url + "/admin/v1/keys/rotate", data=big,
                         headers={**admin.auth(), "Content-Type": "application/json"}) as response:
        assert "LATCHKEY_MAX_BODY_BYTES" in (await problem(response, 413))["detail"]


@pytest.mark.parametrize(("token", "status"), [(None, 401), ("lka_wrong", 401), ("read-only", 403)])
async def test_a_body_over_the_limit_is_refused_for_the_token_first(admin, http, token, status):
    """The contract: the token's permission is checked before the body; a caller who may not
    write learns that, not the size limit."""
    big = b'{"alg": "' + b"x" * (admin.settings.max_body_bytes * 4) + b'"}'
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {admin.read_only_token if token == 'read-only' else token}"
    async with http.post(admin.url + "/admin/v1/keys/rotate", data=big, headers=headers) as response:
        await problem(response, status)
