"""Create real rows for tests: clients, users, keys (each with unique names)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import asyncpg

from shared.config import Settings
from shared.crypto.passwords import Passwords
from shared.management.clients import NewClient, build_client
from shared.models import AuthMethod, Client, User
from shared.stores.pg_clients import PgClients
from shared.stores.pg_users import PgUsers


@dataclass(frozen=True)
class RegisteredClient:
    client: Client
    secret: str | None

    @property
    def client_id(self) -> str:
        return self.client.client_id


async def make_client(
    db: asyncpg.Pool, *, redirect_uris: tuple[str, ...] = ("https://app.example/callback",),
    scope: str = "openid profile email offline_access notes:read notes:write", public: bool = False,
    auth_method: AuthMethod = "client_secret_basic", grant_types: list[str] | None = None, name: str = "Test App",
    id_token_alg: str | None = None,
) -> RegisteredClient:
    client, secret = build_client(NewClient(name, tuple(redirect_uris), scope, public, auth_method,
                                             tuple(grant_types) if grant_types else None, id_token_alg))
    await PgClients(db).create(client)
    return RegisteredClient(client, secret)


async def make_user(db: asyncpg.Pool, settings: Settings, *, password: str = "correct horse battery",
                    username: str | None = None, email: str | None = "user@example.com",
                    name: str | None = "Test User") -> User:
    hasher = Passwords(None, time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib,
                       parallelism=settings.argon2_parallelism)
    username = username or f"user_{secrets.token_hex(4)}"
    return await PgUsers(db).create(username, hasher.hash_sync(password), email=email, name=name,
                                    email_verified=email is not None)
