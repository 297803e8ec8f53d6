"""`latchkey admin-token create|list|revoke`: the token is printed once, stored as a hash, listed
without its value, and refused by the admin API as soon as it is revoked."""

from __future__ import annotations

import dataclasses
import json

import aiohttp

from services.admin.app import create_app
from shared.crypto.digests import sha256_hex
from tests.integration.resource.serving import RunningApp


async def test_create_list_revoke_and_the_api_refuses_the_revoked_token(latchkey, db, settings, cli_db):
    created = await latchkey("admin-token", "create", "--name", "deploy-bot", "--json")
    assert (created.code, created.stderr) == (0, "")
    doc = json.loads(created.stdout)
    token = doc.pop("token")
    assert token.startswith("lka_") and len(token) >= 40
    assert doc["name"] == "deploy-bot" and doc["read_only"] is False and doc["revoked_at"] is None
    row = await db.fetchrow("SELECT token_hash, read_only FROM admin_tokens WHERE name = 'deploy-bot'")
    assert row["token_hash"] == sha256_hex(token)
    assert not await db.fetchval("SELECT count(*) FROM admin_tokens t WHERE t::text LIKE '%' || $1 || '%'", token)

    reader = json.loads((await latchkey("admin-token", "create", "--name", "reader", "--read-only", "--json")).stdout)
    assert reader["read_only"] is True

    listed = await latchkey("admin-token", "list", "--json")
    tokens = {t["name"]: t for t in json.loads(listed.stdout)}
    assert set(tokens) >= {"deploy-bot", "reader"}
    assert token not in listed.stdout and all("token" not in t for t in tokens.values())

    app = create_app(dataclasses.replace(settings, database_url=cli_db))
    async with RunningApp(app) as running, aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {token}"}
        async with http.get(running.url + "/admin/v1/keys", headers=headers) as response:
            assert response.status == 200
        revoked = await latchkey("admin-token", "revoke", "deploy-bot", "--json")
        assert revoked.code == 0 and json.loads(revoked.stdout)["revoked_at"] is not None
        async with http.get(running.url + "/admin/v1/keys", headers=headers) as response:
            assert response.status == 401
            assert response.content_type == "application/problem+json"

    events = [r["event_type"] for r in await db.fetch(
        "SELECT event_type FROM audit_events WHERE details->>'name' = 'deploy-bot' ORDER BY id")]
    assert events == ["admin_token_created", "admin_token_revoked"]
    # The name is free again once revoked; a live name is not.
    assert (await latchkey("admin-token", "create", "--name", "deploy-bot", "--json")).code == 0


async def test_refusals_name_what_is_wrong_and_write_nothing(latchkey, db):
    assert (await latchkey("admin-token", "create", "--name", "twice", "--json")).code == 0
    before = await db.fetchval("SELECT count(*) FROM admin_tokens")
    duplicate = await latchkey("admin-token", "create", "--name", "twice", "--json")
    assert duplicate.code == 2 and "an admin token named 'twice' exists" in duplicate.stderr
    bad_name = await latchkey("admin-token", "create", "--name", "has space", "--json")
    assert bad_name.code == 2 and "admin token name must be" in bad_name.stderr
    unknown = await latchkey("admin-token", "revoke", "nobody")
    assert unknown.code == 2 and "no live admin token named 'nobody'" in unknown.stderr
    assert await db.fetchval("SELECT count(*) FROM admin_tokens") == before
