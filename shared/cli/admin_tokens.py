"""`latchkey admin-token create|list|revoke`: the bearer tokens of the admin HTTP API."""

from __future__ import annotations

from collections.abc import Mapping

from shared.cli.commands import Args, Commands
from shared.cli.output import emit
from shared.config import Settings
from shared.db import connect
from shared.management import admin_tokens


def register(commands: Commands) -> None:
    tokens = commands.add_parser("admin-token", help="manage admin API tokens").add_subparsers(
        dest="action", required=True)
    create = tokens.add_parser("create", help="make a token (printed once; only its hash is stored)")
    create.add_argument("--name", required=True, help="who or what holds it; the audit trail records it")
    create.add_argument("--read-only", action="store_true", help="may read, never change (403 on writes)")
    create.add_argument("--json", action="store_true")
    create.set_defaults(handler=run_create)
    listing = tokens.add_parser("list", help="list tokens, live and revoked (never their values)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=run_list)
    revoke = tokens.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("name")
    revoke.add_argument("--json", action="store_true")
    revoke.set_defaults(handler=run_revoke)


async def run_create(args: Args, env: Mapping[str, str]) -> int:
    conn = await connect(Settings.from_env(env))
    try:
        created = await admin_tokens.create(conn, args.name, read_only=args.read_only)
    finally:
        await conn.close()
    emit(created.to_json(), args.json,
         f"admin token {args.name}: {created.token}  (shown once; store it now)")
    return 0


async def run_list(args: Args, env: Mapping[str, str]) -> int:
    conn = await connect(Settings.from_env(env))
    try:
        tokens = [t for _, t in await admin_tokens.list_tokens(conn)]
    finally:
        await conn.close()
    emit([t.to_json() for t in tokens], args.json,
         "\n".join(f"{t.name}  {'read-only' if t.read_only else 'read-write'}  "
                   f"{'revoked' if t.revoked_at else 'live'}" for t in tokens) or "no admin tokens")
    return 0


async def run_revoke(args: Args, env: Mapping[str, str]) -> int:
    conn = await connect(Settings.from_env(env))
    try:
        token = await admin_tokens.revoke(conn, args.name)
    finally:
        await conn.close()
    emit(token.to_json(), args.json, f"admin token {token.name} revoked")
    return 0
