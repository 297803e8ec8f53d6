"""APIs in PostgreSQL, and the whole catalog cached in-process like clients.

The catalog is small (one row per API) and read on every authorization and token request, so
each process keeps it for LATCHKEY_CLIENT_CACHE_SECONDS and reloads it in one query. A request
naming a scope or resource the cached catalog lacks reloads it once (shared by concurrent
requests), so a new API is usable at once, like a new client.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence

import asyncpg

from shared.models import Api, ApiScope
from shared.oauth.catalog import ApiCatalog

_SELECT = """
    SELECT a.identifier, a.name, a.access_token_ttl, a.client_id, a.secret_hash,
           coalesce((SELECT json_agg(json_build_object('name', s.name, 'description', s.description)
                                     ORDER BY s.position)
                     FROM api_scopes s WHERE s.api = a.identifier), '[]')::text AS scopes
    FROM apis a"""


def _to_api(row: asyncpg.Record) -> Api:
    return Api(identifier=row["identifier"], name=row["name"], access_token_ttl=row["access_token_ttl"],
               client_id=row["client_id"], secret_hash=row["secret_hash"],
               scopes=tuple(ApiScope(s["name"], s["description"]) for s in json.loads(row["scopes"])))


class PgApis:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = db

    async def all(self) -> list[Api]:
        return [_to_api(row) for row in await self._db.fetch(_SELECT + " ORDER BY a.created_at, a.identifier")]

    async def catalog(self) -> ApiCatalog:
        return ApiCatalog.of(await self.all())

    async def get(self, identifier: str) -> Api | None:
        row = await self._db.fetchrow(_SELECT + " WHERE a.identifier = $1", identifier)
        return _to_api(row) if row else None

    async def owners(self, scopes: Sequence[str]) -> dict[str, str]:
        """scope name -> identifier of the API it belongs to, for those of ``scopes`` that are API scopes."""
        rows = await self._db.fetch("SELECT name, api FROM api_scopes WHERE name = ANY($1::text[])", list(scopes))
        return {row["name"]: row["api"] for row in rows}

    async def clients_using(self, identifier: str) -> list[str]:
        rows = await self._db.fetch("SELECT client_id FROM client_apis WHERE api = $1 ORDER BY client_id", identifier)
        return [row["client_id"] for row in rows]

    async def insert(self, api: Api) -> None:
        await self._db.execute(
            "INSERT INTO apis (identifier, name, access_token_ttl, client_id, secret_hash) VALUES ($1, $2, $3, $4, $5)",
            api.identifier, api.name, api.access_token_ttl, api.client_id, api.secret_hash)
        await self._write_scopes(api)

    async def replace(self, api: Api) -> None:
        """Name, lifetime and the whole scope list (the caller checked the scopes are free)."""
        await self._db.execute(
            "UPDATE apis SET name = $2, access_token_ttl = $3, updated_at = now() WHERE identifier = $1",
            api.identifier, api.name, api.access_token_ttl)
        await self._db.execute("DELETE FROM api_scopes WHERE api = $1", api.identifier)
        await self._write_scopes(api)

    async def _write_scopes(self, api: Api) -> None:
        await self._db.executemany(
            "INSERT INTO api_scopes (name, api, description, position) VALUES ($1, $2, $3, $4)",
            [(s.name, api.identifier, s.description, i) for i, s in enumerate(api.scopes)])

    async def delete(self, identifier: str) -> None:
        await self._db.execute("DELETE FROM client_apis WHERE api = $1", identifier)
        await self._db.execute("DELETE FROM apis WHERE identifier = $1", identifier)

    async def link(self, client_id: str, identifiers: Sequence[str]) -> None:
        await self._db.executemany("INSERT INTO client_apis (client_id, api) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                                   [(client_id, identifier) for identifier in identifiers])


class CachedApis:
    """The catalog, reloaded when older than ``ttl_seconds`` or when a request finds it lacking."""

    def __init__(self, inner: PgApis, ttl_seconds: int) -> None:
        self._inner = inner
        self._ttl = ttl_seconds
        self._catalog: ApiCatalog | None = None
        self._expires = 0.0
        self._loading: asyncio.Future[ApiCatalog] | None = None

    async def catalog(self) -> ApiCatalog:
        if self._catalog is not None and self._expires > time.monotonic():
            return self._catalog
        return await self.reload()

    async def reload(self) -> ApiCatalog:
        """One query, shared by every request that asks while it runs."""
        if self._loading is None or self._loading.done():
            self._loading = asyncio.ensure_future(self._load())
        loading = self._loading
        try:
            return await asyncio.shield(loading)
        finally:
            if self._loading is loading and loading.done():
                self._loading = None

    async def _load(self) -> ApiCatalog:
        catalog = await self._inner.catalog()
        self._catalog, self._expires = catalog, time.monotonic() + self._ttl
        return catalog

    async def with_client_id(self, client_id: str) -> ApiCatalog:
        """The catalog, reloaded (at most once) if stale or without an API of this client_id."""
        catalog = self._catalog
        if catalog is None or self._expires <= time.monotonic() or catalog.by_client_id(client_id) is None:
            return await self.reload()
        return catalog

    async def knowing(self, scopes: Sequence[str], resource: str | None) -> ApiCatalog:
        """The catalog, reloaded (at most once) if stale or lacking one of these scopes or this resource."""
        catalog = self._catalog
        if catalog is None or self._expires <= time.monotonic():
            return await self.reload()
        if all(catalog.is_known(s) for s in scopes) and (resource is None or catalog.api(resource) is not None):
            return catalog
        return await self.reload()
