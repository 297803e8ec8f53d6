"""`latchkey` success paths (docs/contract.md): one JSON document on stdout with --json."""

from __future__ import annotations

import asyncio
import json
import os
import signal

import pytest
from argon2 import PasswordHasher

from shared.crypto.digests import sha256_hex
from shared.migrate import available_migrations
from tests.integration.cli.conftest import LATCHKEY, run_latchkey
from tests.support.databases import fresh_database

LATEST = available_migrations()[-1].version


async def test_migrate_applies_everything_once(server_urls, latchkey):
    async with fresh_database(server_urls[0], migrated=False) as url:
        first = await latchkey("migrate", "--json", env={"DATABASE_URL": url})
        again = await latchkey("migrate", "--json", env={"DATABASE_URL": url})
        human = await latchkey("migrate", env={"DATABASE_URL": url})
    assert (first.code, first.stderr) == (0, "")
    assert json.loads(first.stdout) == {"applied": [m.version for m in available_migrations()], "current": LATEST}
    assert json.loads(again.stdout) == {"applied": [], "current": LATEST}
    assert human.code == 0 and f"schema version {LATEST}" in human.stdout


async def test_confidential_client_gets_a_secret_stored_only_as_a_hash(latchkey, db):
    result = await latchkey("client", "create", "--name", "Billing", "--redirect-uri", "https://billing.example/cb",
                            "--redirect-uri", "http://127.0.0.1:9000/cb", "--scope", "openid email", "--json")
    assert (result.code, result.stderr) == (0, "")
    doc = json.loads(result.stdout)
    assert doc["redirect_uris"] == ["https://billing.example/cb", "http://127.0.0.1:9000/cb"]
    assert (doc["client_name"], doc["scope"], doc["public"]) == ("Billing", "email openid", False)
    assert doc["token_endpoint_auth_method"] == "client_secret_basic"
    assert len(doc["client_secret"]) >= 43
    row = await db.fetchrow("SELECT * FROM clients WHERE client_id = $1", doc["client_id"])
    assert row["secret_hash"] == sha256_hex(doc["client_secret"])
    assert doc["client_secret"] not in repr(dict(row))
    assert (row["redirect_uris"], sorted(row["allowed_scopes"])) == (doc["redirect_uris"], ["email", "openid"])


async def test_a_client_may_register_its_id_token_algorithm(latchkey, db):
    result = await latchkey("client", "create", "--name", "Legacy RP", "--redirect-uri", "https://rp.example/cb",
                            "--id-token-alg", "RS256", "--json")
    assert (result.code, result.stderr) == (0, "")
    doc = json.loads(result.stdout)
    assert doc["id_token_signed_response_alg"] == "RS256"
    row = await db.fetchrow("SELECT id_token_signed_response_alg FROM clients WHERE client_id = $1", doc["client_id"])
    assert row["id_token_signed_response_alg"] == "RS256"


async def test_public_client_has_no_secret(latchkey, db):
    result = await latchkey("client", "create", "--name", "SPA", "--redirect-uri", "https://spa.example/cb",
                            "--public", "--json")
    assert result.code == 0
    doc = json.loads(result.stdout)
    assert "client_secret" not in doc
    assert (doc["public"], doc["token_endpoint_auth_method"]) == (True, "none")
    assert doc["scope"] == "email offline_access openid profile"  # the default
    # None registered: the deployment's default applies, and the metadata say which (RFC 7591 §3.2.1).
    assert doc["id_token_signed_response_alg"] == "ES256"
    row = await db.fetchrow("SELECT secret_hash, is_public, id_token_signed_response_alg FROM clients "
                            "WHERE client_id = $1", doc["client_id"])
    assert row["id_token_signed_response_alg"] is None  # not pinned: it follows LATCHKEY_ID_TOKEN_SIGNING_ALG
    assert (row["secret_hash"], row["is_public"]) == (None, True)


async def test_user_create_stores_an_argon2id_hash_not_the_password(latchkey, db):
    password = "correct horse battery staple"
    result = await latchkey("user", "create", "--username", "Grace", "--email", "grace@example.com",
                            "--name", "Grace Hopper", "--password-stdin", "--json", stdin=password + "\n")
    assert (result.code, result.stderr) == (0, "")
    doc = json.loads(result.stdout)
    assert doc["username"] == "Grace" and doc["id"]
    row = await db.fetchrow("SELECT * FROM users WHERE id = $1::uuid", doc["id"])
    assert (row["email"], row["name"], row["disabled"]) == ("grace@example.com", "Grace Hopper", False)
    assert row["password_hash"].startswith("$argon2id$")
    assert password not in repr(dict(row))
    assert PasswordHasher().verify(row["password_hash"], password)


async def test_keys_rotate_then_list(server_urls, latchkey):
    """One key per algorithm of the ring (RS256 access tokens, ES256 ID tokens); the top-level
    fields describe the first, as when there was one algorithm, "keys" lists them all."""
    async with fresh_database(server_urls[0]) as url:  # no key yet, whatever other tests did
        env = {"DATABASE_URL": url}
        first = json.loads((await latchkey("keys", "rotate", "--json", env=env)).stdout)
        second = json.loads((await latchkey("keys", "rotate", "--json", env=env)).stdout)
        only_es256 = json.loads((await latchkey("keys", "rotate", "--alg", "ES256", "--json", env=env)).stdout)
        listed = await latchkey("keys", "list", "--json", env=env)
    assert (first["alg"], first["status"], second["status"]) == ("RS256", "active", "next")
    assert first["kid"] == first["keys"][0]["kid"] and first["kid"] != second["kid"]
    assert [(k["alg"], k["status"]) for k in first["keys"]] == [("RS256", "active"), ("ES256", "active")]
    assert [(k["alg"], k["status"]) for k in second["keys"]] == [("RS256", "next"), ("ES256", "next")]
    assert [(k["alg"], k["status"]) for k in only_es256["keys"]] == [("ES256", "next")]
    assert listed.code == 0
    keys = json.loads(listed.stdout)
    made = [*first["keys"], *second["keys"], *only_es256["keys"]]
    assert [(k["kid"], k["status"]) for k in keys] == [(k["kid"], k["status"]) for k in made]
    assert len({k["kid"] for k in keys}) == 5
    assert "PRIVATE" not in listed.stdout and '"d"' not in listed.stdout


@pytest.mark.parametrize("args", [["keys", "list"], ["migrate"]], ids=["keys list", "migrate"])
async def test_without_json_output_is_short_text(latchkey, args):
    result = await latchkey(*args)
    assert result.code == 0 and not result.stdout.lstrip().startswith(("{", "["))


async def test_output_into_a_pipe_closed_early_ends_quietly(cli_env):
    """`latchkey client list --json | head -1`: no BrokenPipeError line, the status a command
    killed by SIGPIPE has."""
    for n in range(3):
        assert (await run_latchkey(cli_env, "client", "create", "--name", f"Piped {n}", "--redirect-uri",
                                   "https://piped.example/cb", "--json")).code == 0
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    try:
        proc = await asyncio.create_subprocess_exec(str(LATCHKEY), "client", "list", "--json", env=cli_env,
                                                    stdout=write, stderr=asyncio.subprocess.PIPE)
    finally:
        os.close(write)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert (proc.returncode, err.decode()) == (128 + signal.SIGPIPE, "")
