"""`latchkey demo seed`: the demo user, the notes API and the demo client that `make run` prints (dev only).

The notes API is the built-in resource service's: its identifier is that service's audience
(LATCHKEY_AUDIENCE, else LATCHKEY_RESOURCE_URL), its scopes notes:read and notes:write.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.cli.commands import Args, Commands
from shared.cli.output import emit
from shared.config import Settings
from shared.crypto.digests import new_secret, sha256_hex
from shared.db import connect
from shared.errors import UsageError
from shared.management.apis import create_api
from shared.management.users import passwords_for
from shared.models import Client
from shared.stores.pg_apis import PgApis
from shared.stores.pg_clients import PgClients

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "latchkey-demo"
DEMO_CLIENT_ID = "latchkey-demo-app"
DEMO_SCOPES = ("openid", "profile", "email", "offline_access", "notes:read", "notes:write")
NOTES_API_NAME = "Notes API"
NOTES_API_SCOPES = ("notes:read=Read your notes", "notes:write=Create and change your notes")


def register(commands: Commands) -> None:
    demo = commands.add_parser("demo", help="dev-only demo data").add_subparsers(dest="action", required=True)
    seed = demo.add_parser("seed", help="create or refresh the demo user and demo client")
    seed.add_argument("--json", action="store_true")
    seed.set_defaults(handler=run_seed)


async def _forget_earlier_notes_apis(apis: PgApis, identifier: str) -> None:
    """The notes API of an earlier run with another resource port holds the notes scopes (a scope
    belongs to one API): it goes, unless a client of the user's own uses it (then creating this
    run's fails, naming it)."""
    for api in await apis.all():
        if api.name == NOTES_API_NAME and api.identifier != identifier and not await apis.clients_using(api.identifier):
            await apis.delete(api.identifier)


async def run_seed(args: Args, env: Mapping[str, str]) -> int:
    settings = Settings.from_env(env)
    if not settings.dev_mode:
        raise UsageError("demo seed only runs with LATCHKEY_DEV=1 (it creates a user with a published password)")
    demo_url = env.get("LATCHKEY_DEMO_URL", "http://localhost:8000").rstrip("/")
    bases = list(dict.fromkeys([demo_url, demo_url.replace("localhost", "127.0.0.1")]))
    redirect_uris = [f"{base}/callback" for base in bases]
    # RP-Initiated Logout brings the browser back here; Back-Channel Logout posts logout tokens there.
    post_logout_redirect_uris = [f"{base}/signed-out" for base in bases]
    backchannel_logout_uri = f"{demo_url}/backchannel-logout"
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
            await _forget_earlier_notes_apis(PgApis(conn), settings.access_audience)
            if await PgApis(conn).get(settings.access_audience) is None:
                await create_api(conn, identifier=settings.access_audience, name=NOTES_API_NAME,
                                 scopes=NOTES_API_SCOPES, dev_mode=settings.dev_mode)
            await PgClients(conn).create(Client(
                client_id=DEMO_CLIENT_ID, name="Latchkey Demo App", secret_hash=sha256_hex(secret),
                redirect_uris=tuple(redirect_uris), allowed_scopes=frozenset(DEMO_SCOPES),
                grant_types=frozenset(("authorization_code", "refresh_token")),
                token_endpoint_auth_method="client_secret_basic", is_public=False,
                apis=frozenset({settings.access_audience}),
                post_logout_redirect_uris=tuple(post_logout_redirect_uris),
                backchannel_logout_uri=backchannel_logout_uri, backchannel_logout_session_required=True,
            ))
    finally:
        await conn.close()
    doc = {"username": DEMO_USERNAME, "password": DEMO_PASSWORD, "client_id": DEMO_CLIENT_ID,
           "client_secret": secret, "redirect_uris": redirect_uris,
           "post_logout_redirect_uris": post_logout_redirect_uris, "backchannel_logout_uri": backchannel_logout_uri,
           "scope": " ".join(DEMO_SCOPES), "api": settings.access_audience}
    emit(doc, args.json, f"demo user {DEMO_USERNAME} / {DEMO_PASSWORD}; client {DEMO_CLIENT_ID}")
    return 0
