"""Create real rows for tests: clients, users, keys (each with unique names)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import asyncpg

from shared.cli.demo import NOTES_API_NAME, NOTES_API_SCOPES
from shared.config import Settings
from shared.crypto.passwords import Passwords
from shared.management.apis import create_api
from shared.management.clients import NewClient, build_client
from shared.management.errors import Conflict
from shared.models import AuthMethod, Client, User
from shared.stores.pg_apis import PgApis
from shared.stores.pg_clients import PgClients
from shared.stores.pg_users import PgUsers
from tests.support.secrets import register

# The tests' default audience (LATCHKEY_RESOURCE_URL's default): the notes API lives there.
NOTES_API = "http://localhost:8003"


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
    id_token_alg: str | None = None, apis: tuple[str, ...] = (), client_uri: str | None = None,
    cors_origins: tuple[str, ...] = (),
) -> RegisteredClient:
    await ensure_notes_api(db)
    spec = NewClient(name, tuple(redirect_uris), scope, public, auth_method,
                     tuple(grant_types) if grant_types else None, id_token_alg, apis=apis, client_uri=client_uri,
                     cors_origins=cors_origins)
    client, secret = build_client(spec, catalog=await PgApis(db).catalog())
    await PgClients(db).create(client)
    register(secret)
    return RegisteredClient(client, secret)


async def make_user(db: asyncpg.Pool, settings: Settings, *, password: str = "correct horse battery",
                    username: str | None = None, email: str | None = "user@example.com",
                    name: str | None = "Test User") -> User:
    hasher = Passwords(None, time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib,
                       parallelism=settings.argon2_parallelism)
    username = username or f"user_{secrets.token_hex(4)}"
    register(password)
    return await PgUsers(db).create(username, hasher.hash_sync(password), email=email, name=name,
                                    email_verified=email is not None)


async def ensure_notes_api(db: asyncpg.Pool) -> None:
    """The notes API as `latchkey demo seed` defines it, once per test database."""
    if await PgApis(db).get(NOTES_API) is not None:
        return
    async with db.acquire() as conn:
        try:
            await create_api(conn, identifier=NOTES_API, name=NOTES_API_NAME, scopes=NOTES_API_SCOPES, dev_mode=True)
        except Conflict:  # another test created it meanwhile
            pass
