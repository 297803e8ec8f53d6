"""Clients in PostgreSQL: the services read enabled clients (``get``); management reads, lists
and changes every client. The in-process cache of the hot path is ``client_cache.CachedClients``."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from shared.models import Client

# Written at creation and by an update, in this order.
_FIELDS = ("client_id", "name", "secret_hash", "redirect_uris", "allowed_scopes", "grant_types",
           "token_endpoint_auth_method", "is_public", "id_token_signed_response_alg", "post_logout_redirect_uris",
           "client_uri", "backchannel_logout_uri", "backchannel_logout_session_required", "allowed_cors_origins",
           "disabled", "previous_secret_hash", "previous_secret_expires_at")
_COLUMNS = ", ".join(_FIELDS)
# Read with every client, in the same round trip: the APIs it is linked to.
_SELECT = (f"SELECT {_COLUMNS}, ARRAY(SELECT api FROM client_apis a WHERE a.client_id = c.client_id) AS apis "
           "FROM clients c")


def _to_client(row: asyncpg.Record) -> Client:
    return Client(
        client_id=row["client_id"], name=row["name"], secret_hash=row["secret_hash"],
        redirect_uris=tuple(row["redirect_uris"]), allowed_scopes=frozenset(row["allowed_scopes"]),
        grant_types=frozenset(row["grant_types"]),
        token_endpoint_auth_method=row["token_endpoint_auth_method"], is_public=row["is_public"],
        id_token_signed_response_alg=row["id_token_signed_response_alg"],
        post_logout_redirect_uris=tuple(row["post_logout_redirect_uris"]), client_uri=row["client_uri"],
        backchannel_logout_uri=row["backchannel_logout_uri"],
        backchannel_logout_session_required=row["backchannel_logout_session_required"],
        allowed_cors_origins=tuple(row["allowed_cors_origins"]), disabled=row["disabled"],
        previous_secret_hash=row["previous_secret_hash"],
        previous_secret_expires_at=row["previous_secret_expires_at"], apis=frozenset(row["apis"]),
    )


def _values(client: Client) -> list[Any]:
    return [client.client_id, client.name, client.secret_hash, list(client.redirect_uris),
            sorted(client.allowed_scopes), sorted(client.grant_types), client.token_endpoint_auth_method,
            client.is_public, client.id_token_signed_response_alg, list(client.post_logout_redirect_uris),
            client.client_uri, client.backchannel_logout_uri, client.backchannel_logout_session_required,
            list(client.allowed_cors_origins), client.disabled, client.previous_secret_hash,
            client.previous_secret_expires_at]


async def _link(conn: asyncpg.Connection, client: Client) -> None:
    await conn.executemany("INSERT INTO client_apis (client_id, api) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                           [(client.client_id, api) for api in sorted(client.apis)])


class PgClients:
    def __init__(self, pool: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = pool

    async def get(self, client_id: str) -> Client | None:
        """The client the endpoints may serve: a disabled client is as unknown as a missing one."""
        row = await self._db.fetchrow(f"{_SELECT} WHERE client_id = $1 AND NOT disabled", client_id)
        return _to_client(row) if row else None

    async def cors_origins(self) -> frozenset[str]:
        """Every origin some enabled client allows (a CORS preflight names no client)."""
        rows = await self._db.fetch("SELECT DISTINCT unnest(allowed_cors_origins) AS origin FROM clients "
                                    "WHERE NOT disabled")
        return frozenset(r["origin"] for r in rows)

    async def find(self, client_id: str, *, for_update: bool = False) -> Client | None:
        """Any client, disabled or not; ``for_update`` locks its row until the transaction ends,
        so concurrent changes of one client apply one after the other (no lost write)."""
        lock = " FOR UPDATE" if for_update else ""
        row = await self._db.fetchrow(f"{_SELECT} WHERE client_id = $1{lock}", client_id)
        return _to_client(row) if row else None

    async def list(self, *, after: str | None = None, limit: int = 1000) -> list[Client]:
        """In client_id order from ``after`` (exclusive): a cursor for paging."""
        rows = await self._db.fetch(
            f"{_SELECT} WHERE $1::text IS NULL OR client_id > $1 ORDER BY client_id LIMIT $2",
            after, limit)
        return [_to_client(r) for r in rows]

    async def create(self, client: Client) -> None:
        """The client and its API links, all or nothing."""
        async with self._connection() as conn, conn.transaction():
            placeholders = ", ".join(f"${i}" for i in range(1, len(_FIELDS) + 1))
            await conn.execute(f"INSERT INTO clients ({_COLUMNS}) VALUES ({placeholders})", *_values(client))
            await _link(conn, client)

    async def replace(self, client: Client) -> None:
        """Writes every field of ``client`` over its row (read it with ``find(for_update=True)``)."""
        assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(_FIELDS[1:], start=2))
        async with self._connection() as conn, conn.transaction():
            await conn.execute(f"UPDATE clients SET {assignments}, updated_at = now() WHERE client_id = $1",
                               *_values(client))
            await conn.execute("DELETE FROM client_apis WHERE client_id = $1 AND api <> ALL($2::text[])",
                               client.client_id, sorted(client.apis))
            await _link(conn, client)

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        if isinstance(self._db, asyncpg.Pool):
            async with self._db.acquire() as conn:
                yield conn
        else:
            yield self._db

    async def delete(self, client_id: str) -> bool:
        return await self._db.fetchval("DELETE FROM clients WHERE client_id = $1 RETURNING true", client_id) or False


class CachedClients:
    """Clients rarely change; caching them for a few seconds saves a round trip per request.

    Alone, an entry lives ``ttl_seconds``. Watched (``shared.stores.client_changes``), entries
    are served only while the watcher has lately confirmed that no client changed, and every
    change empties the cache: a disabled, deleted or re-keyed client is gone within two polls.
    A lookup that overlaps an invalidation does not store what it read (it may predate the change).
    """

    def __init__(self, inner: PgClients, ttl_seconds: int) -> None:
        self._inner = inner
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, Client | None]] = {}
        self._origins: tuple[float, frozenset[str]] | None = None  # (expiry, every client's CORS origins)
        self._generation = 0
        self._trusted_until = math.inf  # until a watcher takes over

    async def get(self, client_id: str) -> Client | None:
        now = time.monotonic()
        hit = self._entries.get(client_id)
        if hit and hit[0] > now and now < self._trusted_until:
            return hit[1]
        generation = self._generation
        client = await self._inner.get(client_id)
        if client is not None and self._ttl > 0 and generation == self._generation:
            # Unknown ids are not cached, so random ids cannot grow the cache without bound.
            self._entries[client_id] = (now + self._ttl, client)
        return client

    async def cors_origins(self) -> frozenset[str]:
        """``PgClients.cors_origins``, cached and invalidated like the clients themselves."""
        now = time.monotonic()
        if self._origins and self._origins[0] > now and now < self._trusted_until:
            return self._origins[1]
        generation = self._generation
        origins = await self._inner.cors_origins()
        if self._ttl > 0 and generation == self._generation:
            self._origins = (now + self._ttl, origins)
        return origins

    def invalidate(self) -> None:
        self._entries.clear()
        self._origins = None
        self._generation += 1

    def trust_until(self, deadline: float) -> None:
        """Entries may be served until ``deadline`` (time.monotonic()); after it every lookup
        reads PostgreSQL, so a watcher that stops confirming can never leave a stale client."""
        self._trusted_until = deadline
