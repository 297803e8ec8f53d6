"""Reading clients and users for the admin API, from the tables the existing stores own.

In the order the management layer pages them (client_id; lower(username)), so the endpoints
switch to ``shared.management.clients.list_clients`` / ``users.list_users`` (the same ``after``
and ``limit``) by changing only the call once those operations exist. Nothing here writes.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import asyncpg

from shared.management.errors import NotFound
from shared.models import Client, User
from shared.stores.pg_clients import _COLUMNS, PgClients, _to_client
from shared.stores.pg_users import PgUsers

Db: TypeAlias = asyncpg.Pool | asyncpg.Connection


def client_json(c: Client) -> dict[str, Any]:
    """RFC 7591 §2 metadata names; never the secret's hash."""
    doc: dict[str, Any] = {
        "client_id": c.client_id, "client_name": c.name, "redirect_uris": list(c.redirect_uris),
        "grant_types": sorted(c.grant_types), "token_endpoint_auth_method": c.token_endpoint_auth_method,
        "scope": " ".join(sorted(c.allowed_scopes)), "public": c.is_public,
    }
    if c.id_token_signed_response_alg is not None:
        doc["id_token_signed_response_alg"] = c.id_token_signed_response_alg
    return doc


def user_json(u: User) -> dict[str, Any]:
    """Never the password hash."""
    return {"id": str(u.id), "username": u.username, "email": u.email, "email_verified": u.email_verified,
            "name": u.name, "disabled": u.disabled}


async def list_clients(db: Db, *, after: str | None, limit: int) -> list[Client]:
    # One query, read with the store's own row mapping, so a page is one round trip.
    rows = await db.fetch(f"SELECT {_COLUMNS} FROM clients WHERE $1::text IS NULL OR client_id > $1 "
                          "ORDER BY client_id LIMIT $2", after, limit)
    return [_to_client(r) for r in rows]


async def show_client(db: Db, client_id: str) -> Client:
    client = await PgClients(db).get(client_id)
    if client is None:
        raise NotFound(f"no client {client_id!r}")
    return client


async def list_users(db: Db, *, after: str | None, limit: int) -> list[User]:
    rows = await db.fetch("SELECT id, username, password_hash, email, email_verified, name, disabled FROM users "
                          "WHERE $1::text IS NULL OR lower(username) > lower($1) ORDER BY lower(username) LIMIT $2",
                          after, limit)
    return [User(**r) for r in rows]


async def show_user(db: Db, username: str) -> User:
    user = await PgUsers(db).get_by_username(username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user
