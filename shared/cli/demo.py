"""`latchkey demo seed`: the demo user and demo client that `make run` prints (dev mode only)."""

from __future__ import annotations

from collections.abc import Mapping

from shared.cli.commands import Args, Commands
from shared.cli.output import emit
from shared.config import Settings
from shared.crypto.digests import new_secret, sha256_hex
from shared.db import connect
from shared.errors import UsageError
from shared.management.users import passwords_for
from shared.models import Client
from shared.stores.pg_clients import PgClients

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "latchkey-demo"
DEMO_CLIENT_ID = "latchkey-demo-app"
DEMO_SCOPES = ("openid", "profile", "email", "offline_access", "notes:read", "notes:write")


def register(commands: Commands) -> None:
    demo = commands.add_parser("demo", help="dev-only demo data").add_subparsers(dest="action", required=True)
    seed = demo.add_parser("seed", help="create or refresh the demo user and demo client")
    seed.add_argument("--json", action="store_true")
    seed.set_defaults(handler=run_seed)


async def run_seed(args: Args, env: Mapping[str, str]) -> int:
    settings = Settings.from_env(env)
    if not settings.dev_mode:
        raise UsageError("demo seed only runs with LATCHKEY_DEV=1 (it creates a user with a published password)")
    demo_url = env.get("LATCHKEY_DEMO_URL", "http://localhost:8000").rstrip("/")
    redirect_uris = list(dict.fromkeys([f"{demo_url}/callback", demo_url.replace("localhost",
                                                                                 "127.0.0.1") + "/callback"]))
    # A fresh secret each run: only its hash is stored, so the demo app gets it from this output.
    secret = new_secret(32)
    password_hash = await passwords_for(settings).hash(DEMO_PASSWORD)
    conn = await connect(settings)
    try:
        async with conn.transaction():
            await conn.execute(
                """INSERT INTO users (username, password_hash, email, email_verified, name)
                   VALUES ($1, $2, 'demo@example.com', true, 'Demo User')
                   ON CONFLICT (lower(username)) DO UPDATE SET password_hash = EXCLUDED.password_hash""",
                DEMO_USERNAME, password_hash,
            )
            await conn.execute("DELETE FROM clients WHERE client_id = $1", DEMO_CLIENT_ID)
            await PgClients(conn).create(Client(
                client_id=DEMO_CLIENT_ID, name="Latchkey Demo App", secret_hash=sha256_hex(secret),
                redirect_uris=tuple(redirect_uris), allowed_scopes=frozenset(DEMO_SCOPES),
                grant_types=frozenset(("authorization_code", "refresh_token")),
                token_endpoint_auth_method="client_secret_basic", is_public=False,
            ))
    finally:
        await conn.close()
    doc = {"username": DEMO_USERNAME, "password": DEMO_PASSWORD, "client_id": DEMO_CLIENT_ID,
           "client_secret": secret, "redirect_uris": redirect_uris, "scope": " ".join(DEMO_SCOPES)}
    emit(doc, args.json, f"demo user {DEMO_USERNAME} / {DEMO_PASSWORD}; client {DEMO_CLIENT_ID}")
    return 0
