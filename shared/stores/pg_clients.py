"""Clients in PostgreSQL, with a short in-process cache for the hot token path."""

from __future__ import annotations

import time

import asyncpg

from shared.models import Client

_COLUMNS = ("client_id, name, secret_hash, redirect_uris, allowed_scopes, grant_types, token_endpoint_auth_method, "
            "is_public, id_token_signed_response_alg")


def _to_client(row: asyncpg.Record) -> Client:
    return Client(
        client_id=row["client_id"], name=row["name"], secret_hash=row["secret_hash"],
        redirect_uris=tuple(row["redirect_uris"]), allowed_scopes=frozenset(row["allowed_scopes"]),
        grant_types=frozenset(row["grant_types"]),
        token_endpoint_auth_method=row["token_endpoint_auth_method"], is_public=row["is_public"],
        id_token_signed_response_alg=row["id_token_signed_response_alg"], apis=frozenset(row["apis"]),
    )


class PgClients:
    def __init__(self, pool: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = pool

    async def get(self, client_id: str) -> Client | None:
        # The linked APIs come in the same round trip.
        row = await self._db.fetchrow(
            f"SELECT {_COLUMNS}, ARRAY(SELECT api FROM client_apis a WHERE a.client_id = c.client_id) AS apis "
            "FROM clients c WHERE client_id = $1", client_id)
        return _to_client(row) if row else None

    async def create(self, client: Client) -> None:
        """The client and its API links, all or nothing."""
        if isinstance(self._db, asyncpg.Pool):
            async with self._db.acquire() as conn:
                await PgClients(conn).create(client)
            return
        async with self._db.transaction():
            await self._db.execute(
                f"INSERT INTO clients ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                client.client_id, client.name, client.secret_hash, list(client.redirect_uris),
                sorted(client.allowed_scopes), sorted(client.grant_types),
                client.token_endpoint_auth_method, client.is_public, client.id_token_signed_response_alg,
            )
            await self._db.executemany("INSERT INTO client_apis (client_id, api) VALUES ($1, $2)",
                                       [(client.client_id, api) for api in sorted(client.apis)])


class CachedClients:
    """Clients rarely change; caching them for a few seconds saves a round trip per request."""

    def __init__(self, inner: PgClients, ttl_seconds: int) -> None:
        self._inner = inner
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, Client | None]] = {}

    async def get(self, client_id: str) -> Client | None:
        now = time.monotonic()
        hit = self._entries.get(client_id)
        if hit and hit[0] > now:
            return hit[1]
        client = await self._inner.get(client_id)
        if client is not None and self._ttl > 0:
            # Unknown ids are not cached, so random ids cannot grow the cache without bound.
            self._entries[client_id] = (now + self._ttl, client)
        return client
