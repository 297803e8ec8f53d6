"""`latchkey client|user|consent` life-cycle commands: each operation and each refusal, through
the real console script (one JSON document with --json; one stderr line and exit 2 on refusal)."""

from __future__ import annotations

import asyncio
import json

import pytest
from argon2 import PasswordHasher

from shared.crypto.digests import sha256_hex


async def ok(latchkey, *args: str, stdin: str | None = None):
    result = await latchkey(*args, "--json", stdin=stdin)
    assert (result.code, result.stderr) == (0, ""), result.stderr
    return json.loads(result.stdout)


async def refused(latchkey, *args: str, names: str, stdin: str | None = None) -> None:
    result = await latchkey(*args, stdin=stdin)
    assert result.code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and names in result.stderr, result.stderr


@pytest.fixture
async def created(latchkey):
    return await ok(latchkey, "client", "create", "--name", "Shop", "--redirect-uri", "https://shop.example/cb",
                    "--post-logout-redirect-uri", "https://shop.example/bye", "--cors-origin", "https://shop.example",
                    "--client-uri", "https://shop.example", "--backchannel-logout-uri", "https://shop.example/bcl")


async def test_create_stores_the_new_metadata_with_rfc7591_names(created, latchkey):
    shown = await ok(latchkey, "client", "show", created["client_id"])
    assert shown["post_logout_redirect_uris"] == ["https://shop.example/bye"]
    assert (shown["allowed_cors_origins"], shown["client_uri"], shown["backchannel_logout_uri"]) == (
        ["https://shop.example"], "https://shop.example", "https://shop.example/bcl")
    assert (shown["client_name"], shown["disabled"]) == ("Shop", False) and "client_secret" not in shown
    listed = await ok(latchkey, "client", "list")
    assert created["client_id"] in [c["client_id"] for c in listed]


async def test_backchannel_logout_session_required_is_set_and_cleared(created, latchkey):
    """OIDC Back-Channel Logout §2.2: off unless asked for; --no-... turns it off again."""
    cid = created["client_id"]
    assert created["backchannel_logout_session_required"] is False
    on = await ok(latchkey, "client", "update", cid, "--backchannel-logout-session-required")
    assert (on["backchannel_logout_session_required"], on["backchannel_logout_uri"]) == (True, "https://shop.example/bcl")
    off = await ok(latchkey, "client", "update", cid, "--no-backchannel-logout-session-required",
                   "--backchannel-logout-uri", "")
    assert (off["backchannel_logout_session_required"], off["backchannel_logout_uri"]) == (False, None)
    made = await ok(latchkey, "client", "create", "--name", "S", "--redirect-uri", "https://s.example/cb",
                    "--backchannel-logout-uri", "http://127.0.0.1:9/bcl", "--backchannel-logout-session-required")
    assert (made["backchannel_logout_session_required"], made["backchannel_logout_uri"]) == (
        True, "http://127.0.0.1:9/bcl")


async def test_update_replaces_adds_and_removes_redirect_uris(created, latchkey, db):
    cid = created["client_id"]
    doc = await ok(latchkey, "client", "update", cid, "--redirect-uri", "https://shop.example/a",
                   "--redirect-uri", "https://shop.example/b", "--name", "Shop 2", "--scope", "openid email",
                   "--cors-origin", "http://127.0.0.1:3000", "--id-token-alg", "RS256", "--grant-type",
                   "authorization_code", "--auth-method", "client_secret_post")
    assert doc["redirect_uris"] == ["https://shop.example/a", "https://shop.example/b"]
    doc = await ok(latchkey, "client", "update", cid, "--add-redirect-uri", "https://shop.example/c",
                   "--remove-redirect-uri", "https://shop.example/a")
    assert doc["redirect_uris"] == ["https://shop.example/b", "https://shop.example/c"]
    row = await db.fetchrow("SELECT * FROM clients WHERE client_id = $1", cid)
    assert (row["name"], sorted(row["allowed_scopes"]), row["allowed_cors_origins"], row["grant_types"],
            row["token_endpoint_auth_method"], row["id_token_signed_response_alg"]) == (
        "Shop 2", ["email", "openid"], ["http://127.0.0.1:3000"], ["authorization_code"], "client_secret_post", "RS256")


async def test_two_concurrent_cli_updates_of_one_client_both_land(created, latchkey, db):
    cid = created["client_id"]
    await asyncio.gather(*(ok(latchkey, "client", "update", cid, "--add-redirect-uri", f"https://shop.example/{n}")
                           for n in ("x", "y", "z")))
    stored = await db.fetchval("SELECT redirect_uris FROM clients WHERE client_id = $1", cid)
    assert sorted(stored) == ["https://shop.example/cb", "https://shop.example/x", "https://shop.example/y",
                              "https://shop.example/z"]


@pytest.mark.parametrize("uri", ["https://*.shop.example/cb", "https://shop.example/*", "*"])
async def test_wildcard_redirect_uris_are_refused_saying_matching_is_exact(latchkey, created, uri, db):
    await refused(latchkey, "client", "create", "--name", "W", "--redirect-uri", uri, names="matched exactly")
    await refused(latchkey, "client", "update", created["client_id"], "--add-redirect-uri", uri,
                  names="matched exactly")
    assert await db.fetchval("SELECT redirect_uris FROM clients WHERE client_id = $1", created["client_id"]) == [
        "https://shop.example/cb"]


@pytest.mark.parametrize(("args", "names"), [
    (("--cors-origin", "https://shop.example/path"), "CORS origin"),
    (("--cors-origin", "http://shop.example"), "must use https"),
    (("--post-logout-redirect-uri", "https://shop.example/#x"), "post-logout redirect URI"),
    (("--backchannel-logout-uri", "http://shop.example/bcl"), "back-channel logout URI"),
    (("--backchannel-logout-uri", "https://shop.example/bcl#x"), "without a fragment"),
    (("--backchannel-logout-uri", "/bcl"), "back-channel logout URI"),
    (("--remove-redirect-uri", "https://shop.example/none"), "is not registered"),
    (("--remove-redirect-uri", "https://shop.example/cb"), "at least one redirect URI"),
    (("--auth-method", "none"), "between public"),
    (("--scope", "openid admin"), "unknown scope 'admin'"),
    ((), "nothing to change"),
], ids=["cors with path", "cors http", "post-logout fragment", "bcl http", "bcl fragment", "bcl relative",
        "remove unknown", "remove last",
        "confidential to public", "unknown scope", "no option"])
async def test_update_refusals_change_nothing(latchkey, created, db, args, names):
    before = dict(await db.fetchrow("SELECT * FROM clients WHERE client_id = $1", created["client_id"]))
    await refused(latchkey, "client", "update", created["client_id"], *args, names=names)
    assert dict(await db.fetchrow("SELECT * FROM clients WHERE client_id = $1", created["client_id"])) == before


@pytest.mark.parametrize("command", [("client", "show"), ("client", "update", "--name", "x"), ("client", "delete"),
                                     ("client", "disable"), ("client", "enable"), ("client", "rotate-secret")])
async def test_unknown_client_is_refused(latchkey, command):
    args = (command[0], command[1], "lk_nobody", *command[2:])
    await refused(latchkey, *args, names="no client 'lk_nobody'")


async def test_rotate_secret_prints_a_new_secret_once_and_stores_its_hash(created, latchkey, db):
    doc = await ok(latchkey, "client", "rotate-secret", created["client_id"], "--overlap", "60")
    row = await db.fetchrow("SELECT * FROM clients WHERE client_id = $1", created["client_id"])
    assert row["secret_hash"] == sha256_hex(doc["client_secret"])
    assert row["previous_secret_hash"] == sha256_hex(created["client_secret"])
    assert "client_secret" not in await ok(latchkey, "client", "show", created["client_id"])
    await refused(latchkey, "client", "rotate-secret", created["client_id"], "--overlap", "-1", names="overlap")
    public = await ok(latchkey, "client", "create", "--name", "SPA", "--redirect-uri", "https://spa.example/cb",
                      "--public")
    await refused(latchkey, "client", "rotate-secret", public["client_id"], names="no secret to rotate")


async def test_disable_enable_delete_a_client(created, latchkey, db):
    cid = created["client_id"]
    assert (await ok(latchkey, "client", "disable", cid))["disabled"] is True
    assert (await ok(latchkey, "client", "enable", cid))["disabled"] is False
    assert (await ok(latchkey, "client", "delete", cid))["deleted"] is True
    assert await db.fetchval("SELECT count(*) FROM clients WHERE client_id = $1", cid) == 0


async def test_user_life_cycle(latchkey, db):
    made = await ok(latchkey, "user", "create", "--username", "Lin", "--email", "lin@example.com",
                    "--password-stdin", stdin="first password\n")
    assert (await ok(latchkey, "user", "show", "lin"))["id"] == made["id"]
    assert "Lin" in [u["username"] for u in await ok(latchkey, "user", "list")]
    doc = await ok(latchkey, "user", "update", "Lin", "--email", "lin@new.example", "--name", "Lin Wu")
    assert (doc["email"], doc["name"], doc["email_verified"]) == ("lin@new.example", "Lin Wu", False)
    await ok(latchkey, "user", "set-password", "Lin", "--password-stdin", stdin="second password\n")
    stored = await db.fetchval("SELECT password_hash FROM users WHERE id = $1::uuid", made["id"])
    assert PasswordHasher().verify(stored, "second password")
    assert (await ok(latchkey, "user", "disable", "Lin"))["disabled"] is True
    assert (await ok(latchkey, "user", "enable", "Lin"))["disabled"] is False
    await ok(latchkey, "user", "delete", "Lin")
    assert await db.fetchval("SELECT count(*) FROM users WHERE id = $1::uuid", made["id"]) == 0


@pytest.mark.parametrize(("args", "stdin", "names"), [
    (("user", "show", "ghost"), None, "no user 'ghost'"),
    (("user", "disable", "ghost"), None, "no user 'ghost'"),
    (("user", "delete", "ghost"), None, "no user 'ghost'"),
    (("user", "update", "ghost", "--name", "G"), None, "no user 'ghost'"),
    (("user", "set-password", "ghost", "--password-stdin"), "long enough one\n", "no user 'ghost'"),
    (("consent", "list", "--user", "ghost"), None, "no user 'ghost'"),
])
async def test_unknown_user_is_refused(latchkey, args, stdin, names):
    await refused(latchkey, *args, stdin=stdin, names=names)


async def test_set_password_refusals(latchkey, db):
    await ok(latchkey, "user", "create", "--username", "Pat", "--password-stdin", stdin="original password\n")
    before = await db.fetchval("SELECT password_hash FROM users WHERE lower(username) = 'pat'")
    await refused(latchkey, "user", "set-password", "Pat", stdin="new password here\n", names="--password-stdin")
    await refused(latchkey, "user", "set-password", "Pat", "--password-stdin", stdin="short\n",
                  names="at least 8 characters")
    await refused(latchkey, "user", "update", "Pat", "--email", "not-an-address", names="not an email address")
    assert await db.fetchval("SELECT password_hash FROM users WHERE lower(username) = 'pat'") == before


async def test_consent_list_and_revoke(latchkey, created, db):
    user = await ok(latchkey, "user", "create", "--username", "Cy", "--password-stdin", stdin="cy's password\n")
    await db.execute("INSERT INTO consents (user_id, client_id, scopes) VALUES ($1::uuid, $2, $3)",
                     user["id"], created["client_id"], ["openid", "email"])
    listed = await ok(latchkey, "consent", "list", "--user", "Cy")
    assert [(c["client_id"], c["client_name"], c["scope"]) for c in listed] == [
        (created["client_id"], "Shop", "openid email")]
    doc = await ok(latchkey, "consent", "revoke", "--user", "Cy", "--client", created["client_id"])
    assert doc["consent_deleted"] is True
    assert await ok(latchkey, "consent", "list", "--user", "Cy") == []
    await refused(latchkey, "consent", "revoke", "--user", "Cy", "--client", "lk_nobody", names="no client 'lk_nobody'")
    await refused(latchkey, "consent", "revoke", "--user", "ghost", "--client", created["client_id"],
                  names="no user 'ghost'")


@pytest.mark.parametrize("uri", ["http://shop.example", "shop.example", "https://shop.example/#top",
                                 "javascript:alert(1)"])
async def test_client_uri_must_be_https_or_loopback_http(latchkey, uri):
    await refused(latchkey, "client", "create", "--name", "Shop", "--redirect-uri", "https://shop.example/cb",
                  "--client-uri", uri, names="client URI")


async def test_client_uri_is_set_changed_and_cleared_by_update(created, latchkey):
    cid = created["client_id"]
    await refused(latchkey, "client", "update", cid, "--client-uri", "http://shop.example", names="client URI")
    assert (await ok(latchkey, "client", "update", cid, "--client-uri", "http://127.0.0.1:8000/"))[
        "client_uri"] == "http://127.0.0.1:8000/"
    assert (await ok(latchkey, "client", "update", cid, "--client-uri", ""))["client_uri"] is None
