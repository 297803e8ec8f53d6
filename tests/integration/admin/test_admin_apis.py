"""APIs (resource servers) over the admin API, against real PostgreSQL and Redis: create (with
credentials shown once, stored as a hash), list page by page, show, update, delete (refused while
a client uses it; force revokes its tokens, seen at the real token service), each change audited
with the admin token's name, and every refusal as an RFC 9457 problem."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest

from services.admin.core.pagination import encode_cursor
from services.token.app import create_app as create_token_app
from shared.bearer.revocation import revoked_jti_key
from shared.crypto.digests import new_secret, sha256_b64url, sha256_hex
from shared.models import AuthorizationGrant
from shared.stores.redis_codes import RedisCodeStore
from tests.integration.admin.conftest import problem
from tests.integration.management.conftest import REDIRECT_URI, Suite, basic, refresh
from tests.integration.resource.serving import RunningApp
from tests.support.factories import RegisteredClient, make_client, make_user
from tests.support.secrets import register

APIS = "/admin/v1/apis"


def path(identifier: str) -> str:
    return f"{APIS}/{quote(identifier, safe='')}"


def new_body(**changes: Any) -> dict[str, Any]:
    tag = secrets.token_hex(3)
    return {"identifier": f"https://orders-{tag}.example.com/api", "name": f"Orders {tag}",
            "scopes": [{"name": f"orders{tag}:read", "description": "See your orders"},
                       {"name": f"orders{tag}:write", "description": "Place orders for you"}], **changes}


async def send(admin, http, method, url, body=None, *, expect=200, token=None):
    async with http.request(method, admin.url + url, json=body, headers=admin.auth(token)) as response:
        assert response.status == expect, await response.text()
        return await response.json()


async def created(admin, http, **changes: Any) -> dict[str, Any]:
    api: dict[str, Any] = await send(admin, http, "POST", APIS, new_body(**changes), expect=201)
    return api


async def last_audit(admin, event):
    return await admin.pool.fetchval("SELECT details FROM audit_events WHERE event_type = $1 ORDER BY id DESC LIMIT 1",
                                     event)


async def api_count(admin) -> int:
    return int(await admin.pool.fetchval("SELECT count(*) FROM apis"))


async def test_create_answers_the_record_and_show_finds_it_by_its_encoded_identifier(admin, http):
    body = new_body(access_token_ttl=300)
    async with http.post(admin.url + APIS, json=body, headers=admin.auth()) as response:
        assert response.status == 201, await response.text()
        api = await response.json()
        assert response.headers["Location"] == path(body["identifier"])
        assert "%2F" in response.headers["Location"]  # one path segment
    assert api == {"identifier": body["identifier"], "name": body["name"], "scopes": body["scopes"],
                   "access_token_ttl": 300, "clients": []}
    assert await send(admin, http, "GET", path(body["identifier"])) == api
    stored = await admin.pool.fetch("SELECT name, description FROM api_scopes WHERE api = $1 ORDER BY position",
                                    body["identifier"])
    assert [dict(r) for r in stored] == body["scopes"]
    assert await last_audit(admin, "api_created") == {"actor": "admin-token:ops", "api": body["identifier"],
                                                      "with_secret": False}


async def test_with_secret_answers_the_credentials_once_and_stores_a_hash(admin, http):
    api = await created(admin, http, with_secret=True)
    register(api["client_secret"])  # the run's log check looks for it in every log line
    assert api["client_id"].startswith("lkapi_") and len(api["client_secret"]) >= 40
    row = await admin.pool.fetchrow("SELECT client_id, secret_hash FROM apis WHERE identifier = $1", api["identifier"])
    assert (row["client_id"], row["secret_hash"]) == (api["client_id"], sha256_hex(api["client_secret"]))
    shown = await send(admin, http, "GET", path(api["identifier"]))
    assert "client_secret" not in shown and shown["client_id"] == api["client_id"]
    listed = [a for page in [await send(admin, http, "GET", f"{APIS}?limit=200")] for a in page["items"]]
    assert all("client_secret" not in a for a in listed)


@pytest.mark.parametrize(("change", "status", "detail"), [
    ({"identifier": "http://orders.example.com"}, 422, "must use https"),
    ({"identifier": "https://orders.example.com/#frag"}, 422, "no fragment"),
    ({"identifier": "orders"}, 422, "absolute URI"),
    ({"identifier": "https://orders.example.com/?v=2"}, 422, "must not have a query"),
    ({"identifier": "https://user:pw@orders.example.com/"}, 422, "must not carry credentials"),
    ({"scopes": [{"name": "openid", "description": "Sign in"}]}, 422, "OpenID scope"),
    ({"scopes": [{"name": "has space", "description": "x"}]}, 422, "not a scope token"),
    ({"scopes": [{"name": "dup:x", "description": "a"}, {"name": "dup:x", "description": "b"}]}, 422, "given twice"),
    ({"scopes": [{"name": "x:y", "description": " "}]}, 422, "needs a description"),
    ({"scopes": ["x:y=Read"]}, 422, "scopes must be an array of"),
    ({"scopes": [{"name": "x:y"}]}, 422, "scopes must be an array of"),
    ({"access_token_ttl": 5}, 422, "access-token TTL must be 30 to 86400"),
    ({"access_token_ttl": "300"}, 422, "access_token_ttl must be an integer"),
    ({"access_token_ttl": 300.5}, 422, "access_token_ttl must be an integer"),
    ({"with_secret": "yes"}, 422, "with_secret must be true or false"),
    ({"name": None}, 422, "name must be a string"),
    ({"client_secret": "chosen"}, 422, "unknown member 'client_secret'"),
], ids=["http", "fragment", "relative", "query", "credentials", "openid scope", "bad scope token", "scope twice",
        "no description",
        "scope as a string", "scope without description", "ttl too short", "ttl a string", "ttl a fraction",
        "with_secret a string",
        "null name", "unknown member"])
async def test_create_refuses_an_invalid_body_and_writes_nothing(admin, http, change, status, detail):
    before = await api_count(admin)
    async with http.post(admin.url + APIS, json=new_body(**change), headers=admin.auth()) as response:
        refused = await problem(response, status)
    assert detail in refused["detail"] and refused["type"] == "urn:latchkey:problem:invalid-input"
    assert await api_count(admin) == before


async def test_create_refuses_a_taken_identifier_or_a_scope_of_another_api(admin, http):
    first = await created(admin, http)
    before = await api_count(admin)
    async with http.post(admin.url + APIS, json=new_body(identifier=first["identifier"]),
                         headers=admin.auth()) as response:
        assert "already exists" in (await problem(response, 409))["detail"]
    taken = first["scopes"][0]["name"]
    async with http.post(admin.url + APIS, json=new_body(scopes=[{"name": taken, "description": "Mine"}]),
                         headers=admin.auth()) as response:
        refused = await problem(response, 409)
    assert refused["detail"] == (f"scope {taken!r} already belongs to API {first['identifier']}; "
                                 "a scope name belongs to exactly one API")
    assert refused["type"] == "urn:latchkey:problem:conflict"
    assert await api_count(admin) == before


async def test_list_pages_through_every_api_by_identifier_and_past_the_end(admin, http):
    for _ in range(3):
        await created(admin, http)
    every = sorted(await admin.pool.fetchval("SELECT array_agg(identifier) FROM apis"))
    seen: list[str] = []
    cursor = None
    while True:
        page = await send(admin, http, "GET", f"{APIS}?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert len(page["items"]) <= 2
        seen += [a["identifier"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == every
    past = await send(admin, http, "GET", f"{APIS}?cursor={encode_cursor(every[-1])}")
    assert past == {"items": [], "next_cursor": None}
    for query in ("cursor=not-a-cursor", f"cursor={encode_cursor(5)}", "limit=0", "limit=100000", "force=true"):
        async with http.get(f"{admin.url}{APIS}?{query}", headers=admin.auth()) as response:
            await problem(response, 400)


async def test_update_changes_name_scopes_and_lifetime(admin, http):
    api = await created(admin, http, access_token_ttl=120)
    read, write = (s["name"] for s in api["scopes"])
    client = await make_client(admin.pool, scope=f"openid {read} {write}")
    extra = {"name": read.replace(":read", ":admin"), "description": "Run the shop"}
    updated = await send(admin, http, "PATCH", path(api["identifier"]),
                         {"name": "Renamed", "add_scopes": [extra], "remove_scopes": [write],
                          "access_token_ttl": None})
    assert (updated["name"], updated["access_token_ttl"]) == ("Renamed", None)
    assert updated["scopes"] == [api["scopes"][0], extra] and updated["clients"] == [client.client_id]
    allowed = await admin.pool.fetchval("SELECT allowed_scopes FROM clients WHERE client_id = $1", client.client_id)
    assert write not in allowed and read in allowed  # a removed scope leaves every client
    assert await last_audit(admin, "api_updated") == {"actor": "admin-token:ops", "api": api["identifier"],
                                                      "removed_scopes": [write]}
    # 600.0 is an integer to JSON Schema (OpenAPI 3.1), as the document says.
    replaced = await send(admin, http, "PATCH", path(api["identifier"]), {"scopes": [extra], "access_token_ttl": 600.0})
    assert (replaced["scopes"], replaced["access_token_ttl"], replaced["name"]) == ([extra], 600, "Renamed")


@pytest.mark.parametrize(("body", "status", "detail"), [
    ({}, 422, "nothing to change"),
    ({"scopes": [], "add_scopes": []}, 422, "not both"),
    ({"remove_scopes": ["nope:x"]}, 422, "has no scope 'nope:x'"),
    ({"access_token_ttl": 10**6}, 422, "access-token TTL"),
    ({"identifier": "https://elsewhere.example.com"}, 422, "unknown member 'identifier'"),
    ({"name": ""}, 422, "1 to 200 characters"),
], ids=["empty", "replace and add", "remove an unknown scope", "ttl too long", "identifier", "empty name"])
async def test_update_refuses_and_changes_nothing(admin, http, body, status, detail):
    api = await created(admin, http)
    async with http.patch(admin.url + path(api["identifier"]), json=body, headers=admin.auth()) as response:
        assert detail in (await problem(response, status))["detail"]
    assert await send(admin, http, "GET", path(api["identifier"])) == api


async def test_update_refuses_a_scope_of_another_api(admin, http):
    first, second = await created(admin, http), await created(admin, http)
    taken = first["scopes"][0]
    async with http.patch(admin.url + path(second["identifier"]), json={"add_scopes": [taken]},
                          headers=admin.auth()) as response:
        assert f"already belongs to API {first['identifier']}" in (await problem(response, 409))["detail"]
    assert await send(admin, http, "GET", path(second["identifier"])) == second


@pytest.mark.parametrize(("method", "body"), [("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)])
async def test_an_unknown_api_is_a_404_problem(admin, http, method, body):
    async with http.request(method, admin.url + path("https://nowhere.example.com"), json=body,
                            headers=admin.auth()) as response:
        refused = await problem(response, 404)
    assert refused["detail"] == "no API with identifier https://nowhere.example.com"


@pytest.fixture(scope="module")
async def token_service(admin, http) -> AsyncIterator[Suite]:
    async with RunningApp(create_token_app(admin.settings)) as token:
        yield Suite(token.url, "", http)


async def tokens_for_api(suite: Suite, redis, settings, client: RegisteredClient, user, scope: str,
                         resource: str) -> dict[str, Any]:
    """A code as the authorize service leaves it for ``resource``, exchanged at the real /token."""
    verifier, code = new_secret(32), new_secret(32)
    grant = AuthorizationGrant(client_id=client.client_id, redirect_uri=REDIRECT_URI, scope=tuple(scope.split()),
                               user_id=str(user.id), auth_time=int(time.time()) - 5,
                               code_challenge=sha256_b64url(verifier), code_challenge_method="S256",
                               resource=resource, grant_id=str(uuid.uuid4()))
    await RedisCodeStore(redis, settings.redis_prefix).save(code, grant, 60)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    async with suite.http.post(suite.token_url + "/token", data=form,
                               headers=basic(client.client_id, client.secret)) as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body


def jti_of(access_token: str) -> str:
    import jwt

    return str(jwt.decode(access_token, options={"verify_signature": False})["jti"])


async def test_delete_is_refused_while_a_client_uses_it_and_force_revokes_its_tokens(admin, http, token_service,
                                                                                   redis):
    api = await created(admin, http)
    read = api["scopes"][0]["name"]
    client = await make_client(admin.pool, redirect_uris=(REDIRECT_URI,), scope=f"openid offline_access {read}")
    user = await make_user(admin.pool, admin.settings)
    issued = await tokens_for_api(token_service, redis, admin.settings, client, user,
                                  f"openid offline_access {read}", api["identifier"])

    async with http.delete(admin.url + path(api["identifier"]), headers=admin.auth()) as response:
        refused = await problem(response, 409)
    assert refused["detail"] == (f"API {api['identifier']} is still used by client(s) {client.client_id}; unlink them "
                                 "or delete with --force (admin API: ?force=true), which revokes its tokens")
    assert await send(admin, http, "GET", path(api["identifier"])) == {**api, "clients": [client.client_id]}
    status, body = await refresh(token_service, client.client_id, client.secret, issued["refresh_token"])
    assert status == 200, body  # still working: the refusal changed nothing
    issued = body

    live = "SELECT count(*) FROM refresh_tokens WHERE resource = $1 AND revoked_at IS NULL"
    before = await admin.pool.fetchval(live, api["identifier"])
    assert before >= 1  # the refreshed token (and the one it replaced, kept for the rotation's grace)

    deleted = await send(admin, http, "DELETE", path(api["identifier"]) + "?force=true")
    assert deleted == {"identifier": api["identifier"], "deleted": True, "unlinked_clients": [client.client_id],
                       "revoked_refresh_tokens": before, "denylisted_access_tokens": before}
    assert await admin.pool.fetchval(live, api["identifier"]) == 0
    status, body = await refresh(token_service, client.client_id, client.secret, issued["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    assert await redis.exists(revoked_jti_key(admin.settings.redis_prefix, jti_of(issued["access_token"])))
    assert await admin.pool.fetchval("SELECT count(*) FROM client_apis WHERE api = $1", api["identifier"]) == 0
    assert await last_audit(admin, "api_deleted") == {"actor": "admin-token:ops", "api": api["identifier"],
                                                      "unlinked_clients": [client.client_id],
                                                      "revoked_refresh_tokens": before}
    async with http.get(admin.url + path(api["identifier"]), headers=admin.auth()) as response:
        await problem(response, 404)


async def test_delete_of_an_unused_api_and_a_bad_force_value(admin, http):
    api = await created(admin, http)
    async with http.delete(admin.url + path(api["identifier"]) + "?force=yes", headers=admin.auth()) as response:
        assert "force must be true or false" in (await problem(response, 400))["detail"]
    deleted = await send(admin, http, "DELETE", path(api["identifier"]))
    assert (deleted["deleted"], deleted["unlinked_clients"], deleted["revoked_refresh_tokens"]) == (True, [], 0)
    assert await admin.pool.fetchval("SELECT count(*) FROM apis WHERE identifier = $1", api["identifier"]) == 0


@pytest.mark.parametrize(("method", "suffix", "body"), [
    ("POST", "", new_body()), ("PATCH", "/x", {"name": "x"}), ("DELETE", "/x", None), ("DELETE", "/x?force=true", None),
])
async def test_a_read_only_token_cannot_write_apis_but_can_read_them(admin, http, method, suffix, body):
    api = await created(admin, http)
    target = APIS + suffix.replace("/x", "/" + quote(api["identifier"], safe=""))
    before = await api_count(admin)
    read_only = admin.auth(admin.read_only_token)
    async with http.request(method, admin.url + target, json=body, headers=read_only) as response:
        assert (await problem(response, 403))["type"] == "urn:latchkey:problem:read-only-token"
    assert await api_count(admin) == before
    assert await send(admin, http, "GET", path(api["identifier"]), token=admin.read_only_token) == api
    assert (await send(admin, http, "GET", APIS, token=admin.read_only_token))["items"]


@pytest.mark.parametrize("authorization", [None, "Bearer lka_wrong", "Basic b3BzOm9wcw=="])
async def test_a_missing_or_wrong_token_is_the_same_401(admin, http, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, url in (("GET", APIS), ("POST", APIS), ("GET", path("https://x.example.com")),
                        ("DELETE", path("https://x.example.com"))):
        async with http.request(method, admin.url + url, headers=headers) as response:
            refused = await problem(response, 401)
            assert refused["detail"] == "a valid admin token is required"
            assert response.headers["WWW-Authenticate"] == 'Bearer realm="latchkey-admin"'
