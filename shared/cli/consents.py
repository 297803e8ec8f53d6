"""`latchkey consent list --user NAME`, `latchkey consent revoke --user NAME --client ID`."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from shared.cli.commands import Commands
from shared.cli.connect import backends
from shared.cli.output import emit
from shared.management import consents as ops


def register(commands: Commands) -> None:
    consent = commands.add_parser("consent", help="remembered consents").add_subparsers(dest="action", required=True)
    listing = consent.add_parser("list", help="the clients a user has consented to")
    listing.add_argument("--user", required=True, dest="username")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=run_list)
    revoke = consent.add_parser("revoke", help="forget a consent and revoke that grant's tokens")
    revoke.add_argument("--user", required=True, dest="username")
    revoke.add_argument("--client", required=True, dest="client_id")
    revoke.add_argument("--json", action="store_true")
    revoke.set_defaults(handler=run_revoke)


async def run_list(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    async with backends(env) as b:
        docs = [r.to_json() for r in await ops.list_consents(b, args.username)]
    emit(docs, args.json, "\n".join(f"{d['client_id']}  {d['client_name']}  {d['scope']}" for d in docs)
         or f"{args.username} has consented to no client")
    return 0


async def run_revoke(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    async with backends(env) as b:
        doc = (await ops.revoke(b, args.username, args.client_id)).to_json()
    emit(doc, args.json, f"consent of {doc['username']} to {doc['client_id']} revoked; "
                         f"{doc['refresh_tokens_revoked']} refresh token(s) revoked")
    return 0
