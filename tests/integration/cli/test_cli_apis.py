"""`latchkey api ...` and `client create --api` (issue 11): every operation and every refusal,
through the real console script against a database of its own."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from redis.asyncio import Redis

from shared.bearer.revocation import revoked_jti_key
from shared.crypto.digests import sha256_hex
from tests.integration.cli.test_cli_failures import assert_refused

# A non-dev deployment: https everywhere and a real key-encryption key (from test_env).
PRODUCTION = {"LATCHKEY_DEV": None, "LATCHKEY_ISSUER": "https://auth.example.com",
              "LATCHKEY_TOKEN_URL": "https://token.example.com", "LATCHKEY_RESOURCE_URL": "https://api.example.com"}


def unique(prefix: str = "orders") -> tuple[str, str]:
    """A fresh identifier and scope prefix, so tests sharing the database never collide."""
    tag = secrets.token_hex(3)
    return f"https://{prefix}-{tag}.example.com/api", f"{prefix}{tag}"


async def create(latchkey, identifier: str, *scopes: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    args = ["api", "create", "--identifier", identifier, "--name", "Orders", *extra, "--json"]
    for scope in scopes:
        args += ["--scope", scope]
    result = await latchkey(*args)
    assert (result.code, result.stderr) == (0, ""), result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


async def test_create_show_list_an_api_with_credentials(latchkey, db):
    identifier, p = unique()
    doc = await create(latchkey, identifier, f"{p}:read=Read your orders", f"{p}:write=Place orders",
                       extra=("--access-token-ttl", "120", "--with-secret"))
    assert doc["identifier"] == identifier and doc["name"] == "Orders"
    assert doc["scopes"] == [{"name": f"{p}:read", "description": "Read your orders"},
                             {"name": f"{p}:write", "description": "Place orders"}]
    assert doc["access_token_ttl"] == 120 and doc["clients"] == []
    assert doc["client_id"].startswith("lkapi_") and len(doc["client_secret"]) >= 43
    row = await db.fetchrow("SELECT * FROM apis WHERE identifier = $1", identifier)
    assert row["secret_hash"] == sha256_hex(doc["client_secret"]) and doc["client_secret"] not in repr(dict(row))

    shown = json.loads((await latchkey("api", "show", identifier, "--json")).stdout)
    assert "client_secret" not in shown and shown["client_id"] == doc["client_id"]
    assert shown["scopes"] == doc["scopes"]
    listed = json.loads((await latchkey("api", "list", "--json")).stdout)
    assert identifier in [a["identifier"] for a in listed]


async def clients_version(cli_env) -> int:
    redis = Redis.from_url(cli_env["REDIS_URL"])
    try:
        return int(await redis.get(f"{cli_env['LATCHKEY_REDIS_PREFIX']}clients-version") or 0)
    finally:
        await redis.aclose()


async def test_update_name_scopes_and_lifetime(latchkey, db, cli_env):
    identifier, p = unique()
    await create(latchkey, identifier, f"{p}:read=Read", f"{p}:write=Write")
    client = json.loads((await latchkey("client", "create", "--name", "Shop", "--redirect-uri", "https://shop.example/cb",
                                        "--scope", f"openid {p}:read {p}:write", "--json")).stdout)

    version = await clients_version(cli_env)
    result = await latchkey("api", "update", identifier, "--name", "Orders v2", "--remove-scope", f"{p}:write",
                            "--add-scope", f"{p}:cancel=Cancel orders", "--access-token-ttl", "300", "--json")
    assert (result.code, result.stderr) == (0, "")
    doc = json.loads(result.stdout)
    assert (doc["name"], doc["access_token_ttl"]) == ("Orders v2", 300)
    assert [s["name"] for s in doc["scopes"]] == [f"{p}:read", f"{p}:cancel"]
    assert doc["clients"] == [client["client_id"]]
    # A removed scope is no client's any more.
    allowed = await db.fetchval("SELECT allowed_scopes FROM clients WHERE client_id = $1", client["client_id"])
    assert sorted(allowed) == sorted(["openid", f"{p}:read"])
    # Every service drops its cached clients, whose scopes just changed.
    assert await clients_version(cli_env) == version + 1

    replaced = json.loads((await latchkey("api", "update", identifier, "--scope", f"{p}:all=Everything",
                                          "--default-access-token-ttl", "--json")).stdout)
    assert replaced["scopes"] == [{"name": f"{p}:all", "description": "Everything"}]
    assert replaced["access_token_ttl"] is None


async def test_client_create_with_api_scopes_and_api_links(latchkey, db):
    identifier, p = unique()
    await create(latchkey, identifier, f"{p}:read=Read", f"{p}:write=Write")
    by_scope = await latchkey("client", "create", "--name", "Reader", "--redirect-uri", "https://r.example/cb",
                              "--scope", f"openid {p}:read", "--json")
    assert (by_scope.code, by_scope.stderr) == (0, "")
    doc = json.loads(by_scope.stdout)
    assert doc["scope"] == f"openid {p}:read" and doc["apis"] == [identifier]
    by_api = json.loads((await latchkey("client", "create", "--name", "All", "--redirect-uri", "https://a.example/cb",
                                        "--scope", "openid", "--api", identifier, "--json")).stdout)
    assert by_api["apis"] == [identifier]
    assert by_api["scope"] == " ".join(sorted(["openid", f"{p}:read", f"{p}:write"]))
    linked = await db.fetch("SELECT client_id FROM client_apis WHERE api = $1 ORDER BY client_id", identifier)
    assert sorted(r["client_id"] for r in linked) == sorted([doc["client_id"], by_api["client_id"]])


async def test_refusals(latchkey, row_counts):
    identifier, p = unique()
    await create(latchkey, identifier, f"{p}:read=Read")
    other, _ = unique()
    cases = [
        (("api", "create", "--identifier", identifier, "--name", "Again", "--json"), "already exists"),
        (("api", "create", "--identifier", other, "--name", "Thief", "--scope", f"{p}:read=Mine", "--json"),
         f"scope '{p}:read' already belongs to API {identifier}"),
        (("api", "create", "--identifier", other, "--name", "X", "--scope", "openid=Me", "--json"), "OpenID scope"),
        (("api", "create", "--identifier", other, "--name", "X", "--scope", 'bad"scope=x', "--json"), "RFC 6749"),
        (("api", "create", "--identifier", other, "--name", "X", "--scope", "nodescription", "--json"),
         "NAME=description"),
        (("api", "create", "--identifier", "http://orders.example.com", "--name", "X", "--json"), "must use https"),
        (("api", "create", "--identifier", "/relative", "--name", "X", "--json"), "absolute URI"),
        (("api", "create", "--identifier", other, "--name", "X", "--access-token-ttl", "5", "--json"), "30 to 86400"),
        (("api", "show", other, "--json"), f"no API with identifier {other}"),
        (("api", "update", other, "--name", "Y", "--json"), f"no API with identifier {other}"),
        (("api", "update", identifier, "--remove-scope", "nope", "--json"), "has no scope 'nope'"),
        (("api", "update", identifier, "--scope", "orders:a=A", "--add-scope", "orders:b=B", "--json"), "not both"),
        (("api", "update", identifier, "--json"), "nothing to change"),
        (("api", "delete", other, "--json"), f"no API with identifier {other}"),
        (("client", "create", "--name", "C", "--redirect-uri", "https://c.example/cb", "--scope", "openid orders:nope",
          "--json"), "unknown scope 'orders:nope'"),
        (("client", "create", "--name", "C", "--redirect-uri", "https://c.example/cb", "--api", other, "--json"),
         f"unknown API '{other}'"),
    ]
    for args, names in cases:
        await assert_refused(latchkey, row_counts, args, names=names)


async def test_http_identifier_only_on_loopback_in_dev(latchkey, row_counts):
    loopback = f"http://127.0.0.1:{9000 + secrets.randbelow(999)}/{secrets.token_hex(3)}"
    await assert_refused(latchkey, row_counts, ("api", "create", "--identifier", loopback, "--name", "Dev", "--json"),
                         names="LATCHKEY_DEV=1", env=PRODUCTION)
    assert (await create(latchkey, loopback))["identifier"] == loopback


async def test_delete_is_refused_while_used_and_force_revokes_its_tokens(latchkey, db, cli_env, row_counts):
    identifier, p = unique()
    await create(latchkey, identifier, f"{p}:read=Read")
    client = json.loads((await latchkey("client", "create", "--name", "User of it", "--redirect-uri",
                                        "https://u.example/cb", "--scope", f"openid offline_access {p}:read",
                                        "--json")).stdout)
    user_id = await db.fetchval("INSERT INTO users (username, password_hash) VALUES ($1, 'x') RETURNING id",
                                f"u{secrets.token_hex(4)}")
    now = datetime.now(UTC)
    jti = secrets.token_hex(8)
    await db.execute(
        """INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, scope, resource, auth_time,
                                       expires_at, family_expires_at, access_jti, access_expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)""",
        sha256_hex(secrets.token_hex(16)), uuid4(), client["client_id"], user_id, ["openid", f"{p}:read"], identifier,
        now, now + timedelta(days=1), jti, now + timedelta(minutes=5))

    await assert_refused(latchkey, row_counts, ("api", "delete", identifier, "--json"),
                         names=f"still used by client(s) {client['client_id']}")

    version = await clients_version(cli_env)
    result = await latchkey("api", "delete", identifier, "--force", "--json")
    assert (result.code, result.stderr) == (0, "")
    assert await clients_version(cli_env) == version + 1
    assert json.loads(result.stdout) == {"identifier": identifier, "deleted": True,
                                         "unlinked_clients": [client["client_id"]], "revoked_refresh_tokens": 1,
                                         "denylisted_access_tokens": 1}
    assert await db.fetchval("SELECT revoked_at FROM refresh_tokens WHERE access_jti = $1", jti) is not None
    assert await db.fetchval("SELECT count(*) FROM apis WHERE identifier = $1", identifier) == 0
    assert await db.fetchval("SELECT allowed_scopes FROM clients WHERE client_id = $1",
                             client["client_id"]) == ["offline_access", "openid"]
    redis = Redis.from_url(cli_env["REDIS_URL"])
    try:
        assert await redis.exists(revoked_jti_key(cli_env["LATCHKEY_REDIS_PREFIX"], jti)) == 1
    finally:
        await redis.aclose()
