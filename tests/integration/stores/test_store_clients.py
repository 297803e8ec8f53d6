"""PgClients and CachedClients over a real PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets

import asyncpg
import pytest

from shared.crypto.digests import sha256_hex
from shared.management.clients import NewClient, build_client
from shared.stores.pg_clients import CachedClients, PgClients
from tests.support.factories import make_client
from tests.support.typed import present


@pytest.mark.parametrize("public", [False, True], ids=["confidential", "public"])
async def test_create_then_get_returns_the_same_client(pool, public):
    registered = await make_client(pool, public=public, redirect_uris=("https://a.example/cb", "http://127.0.0.1/cb"))
    assert await PgClients(pool).get(registered.client_id) == registered.client
    assert (registered.secret is None) is public


async def test_unknown_client_is_none(pool):
    assert await PgClients(pool).get("lk_no_such_client") is None


async def test_only_a_hash_of_the_secret_is_stored(pool):
    registered = await make_client(pool)
    row = await pool.fetchrow("SELECT * FROM clients WHERE client_id = $1", registered.client_id)
    secret = present(registered.secret)  # a confidential client
    assert row["secret_hash"] == sha256_hex(secret)
    assert secret not in repr(dict(row))


async def test_duplicate_client_id_is_refused(pool):
    registered = await make_client(pool)
    with pytest.raises(asyncpg.UniqueViolationError):
        await PgClients(pool).create(registered.client)


@pytest.mark.parametrize("change", [
    {"is_public": True},
    {"secret_hash": None},
    {"token_endpoint_auth_method": "none"},
    {"redirect_uris": ()},
], ids=["public with a secret", "confidential without secret", "confidential with auth none", "no redirect uri"])
async def test_the_schema_refuses_inconsistent_clients(pool, change):
    registered = await make_client(pool)
    bad = dataclasses.replace(registered.client, client_id=registered.client_id + "x", **change)
    with pytest.raises(asyncpg.CheckViolationError):
        await PgClients(pool).create(bad)
    assert await PgClients(pool).get(bad.client_id) is None


async def _rename(pool, client_id: str, name: str) -> None:
    await pool.execute("UPDATE clients SET name = $2 WHERE client_id = $1", client_id, name)


async def test_cache_serves_repeat_lookups_until_the_ttl_passes(pool):
    registered = await make_client(pool, name="Before")
    cached = CachedClients(PgClients(pool), ttl_seconds=1)
    assert present(await cached.get(registered.client_id)).name == "Before"
    await _rename(pool, registered.client_id, "After")
    assert present(await cached.get(registered.client_id)).name == "Before"
    await asyncio.sleep(1.1)
    assert present(await cached.get(registered.client_id)).name == "After"


async def test_ttl_zero_disables_the_cache(pool):
    registered = await make_client(pool, name="Before")
    cached = CachedClients(PgClients(pool), ttl_seconds=0)
    await cached.get(registered.client_id)
    await _rename(pool, registered.client_id, "After")
    assert present(await cached.get(registered.client_id)).name == "After"


async def test_unknown_ids_are_not_cached(pool):
    cached = CachedClients(PgClients(pool), ttl_seconds=60)
    client, _ = build_client(NewClient("Late", ("https://late.example/cb",), "openid"))
    assert await cached.get(client.client_id) is None
    await PgClients(pool).create(client)
    assert await cached.get(client.client_id) == client


async def test_cors_origins_are_every_enabled_clients_and_cached_until_invalidated(pool):
    one, two, off = (f"https://{label}-{secrets.token_hex(4)}.example" for label in ("one", "two", "off"))
    await make_client(pool, public=True, cors_origins=(one,))
    second = await make_client(pool, public=True, cors_origins=(two, one))
    disabled = await make_client(pool, public=True, cors_origins=(off,))
    await pool.execute("UPDATE clients SET disabled = true WHERE client_id = $1", disabled.client_id)
    cached = CachedClients(PgClients(pool), ttl_seconds=60)
    origins = await cached.cors_origins()
    assert {one, two} <= origins and off not in origins
    await pool.execute("UPDATE clients SET allowed_cors_origins = '{}' WHERE client_id = $1", second.client_id)
    assert two in await cached.cors_origins()  # served from the cache: no query per request
    cached.invalidate()  # what the change watcher does when a client changed
    assert two not in await cached.cors_origins()
