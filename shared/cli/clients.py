"""`latchkey client create|list|show|update|disable|enable|rotate-secret|delete`: parse, call
``shared.management.clients``, render (RFC 7591 metadata names with --json)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from shared.cli.commands import Commands
from shared.cli.connect import backends
from shared.cli.output import emit
from shared.config import SIGNING_ALGS
from shared.errors import UsageError
from shared.management import clients as ops
from shared.management.client_metadata import AUTH_METHODS, CONFIDENTIAL_AUTH_METHODS, GRANT_TYPES


def _metadata_options(parser: argparse.ArgumentParser) -> None:
    """The options create and update share (repeatable where the metadata is a list)."""
    parser.add_argument("--post-logout-redirect-uri", action="append", dest="post_logout_redirect_uris")
    parser.add_argument("--backchannel-logout-uri")
    parser.add_argument("--backchannel-logout-session-required", action=argparse.BooleanOptionalAction,
                        help="logout tokens must carry sid (OIDC Back-Channel Logout §2.2; default: no)")
    parser.add_argument("--cors-origin", action="append", dest="cors_origins",
                        help="an origin (https://app.example) allowed to call the token endpoints from a browser")
    parser.add_argument("--client-uri")
    parser.add_argument("--grant-type", action="append", choices=GRANT_TYPES, dest="grant_types")
    parser.add_argument("--id-token-alg", choices=SIGNING_ALGS, dest="id_token_alg",
                        help="ID-token signing algorithm (default: LATCHKEY_ID_TOKEN_SIGNING_ALG)")
    parser.add_argument("--api", action="append", dest="apis", metavar="IDENTIFIER",
                        help="an API the client may use (all its scopes unless --scope names some of them)")
    parser.add_argument("--json", action="store_true")


def register(commands: Commands) -> None:
    client = commands.add_parser("client", help="manage OAuth clients").add_subparsers(dest="action", required=True)
    create = client.add_parser("create", help="register a client")
    create.add_argument("--name", required=True)
    create.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris")
    create.add_argument("--scope", default=ops.DEFAULT_SCOPE, help="space-separated scopes the client may request")
    create.add_argument("--public", action="store_true", help="a public client (no secret; PKCE required)")
    create.add_argument("--auth-method", choices=CONFIDENTIAL_AUTH_METHODS, default="client_secret_basic",
                        help="token endpoint auth method of a confidential client")
    _metadata_options(create)
    create.set_defaults(handler=run_create)

    update = client.add_parser("update", help="change a client's metadata")
    update.add_argument("client_id", metavar="CLIENT_ID")
    update.add_argument("--name")
    update.add_argument("--redirect-uri", action="append", dest="redirect_uris", help="replaces the list")
    update.add_argument("--add-redirect-uri", action="append", dest="add_redirect_uris", default=[])
    update.add_argument("--remove-redirect-uri", action="append", dest="remove_redirect_uris", default=[])
    update.add_argument("--scope")
    update.add_argument("--auth-method", choices=AUTH_METHODS)
    _metadata_options(update)
    update.set_defaults(handler=run_update)

    listing = client.add_parser("list", help="every client")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=run_list)
    for action, handler, text in (("show", run_show, "one client"), ("delete", run_delete, "delete a client"),
                                  ("disable", run_disable, "refuse a client everywhere"),
                                  ("enable", run_enable, "let a disabled client in again")):
        sub = client.add_parser(action, help=text)
        sub.add_argument("client_id", metavar="CLIENT_ID")
        sub.add_argument("--json", action="store_true")
        sub.set_defaults(handler=handler)
    rotate = client.add_parser("rotate-secret", help="a new client secret, printed once")
    rotate.add_argument("client_id", metavar="CLIENT_ID")
    rotate.add_argument("--overlap", type=int, default=0, metavar="SECONDS",
                        help="how long the old secret keeps working (default 0: not at all)")
    rotate.add_argument("--json", action="store_true")
    rotate.set_defaults(handler=run_rotate)


def _summary(doc: dict[str, Any]) -> str:
    state = " (disabled)" if doc["disabled"] else ""
    return f"{doc['client_id']}  {doc['client_name']}{state}  {' '.join(doc['redirect_uris'])}"


def _with_secret(record: ops.ClientRecord) -> str:
    return f"client_id: {record.client.client_id}" + (
        f"\nclient_secret: {record.client_secret}  (shown once; store it now)" if record.client_secret else "")


async def run_create(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    spec = ops.NewClient(
        name=args.name, redirect_uris=tuple(args.redirect_uris), scope=args.scope, public=args.public,
        auth_method=args.auth_method, grant_types=args.grant_types and tuple(args.grant_types),
        id_token_alg=args.id_token_alg, post_logout_redirect_uris=tuple(args.post_logout_redirect_uris or ()),
        client_uri=args.client_uri, backchannel_logout_uri=args.backchannel_logout_uri,
        backchannel_logout_session_required=bool(args.backchannel_logout_session_required),
        cors_origins=tuple(args.cors_origins or ()), apis=tuple(args.apis or ()))
    async with backends(env) as b:
        record = await ops.create(b, spec)
    emit(record.to_json(), args.json, _with_secret(record))
    return 0


async def run_update(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    def listed(values: list[str] | None) -> tuple[str, ...] | None:
        return None if values is None else tuple(values)

    change = ops.ClientUpdate(
        name=args.name, redirect_uris=listed(args.redirect_uris), add_redirect_uris=tuple(args.add_redirect_uris),
        remove_redirect_uris=tuple(args.remove_redirect_uris),
        post_logout_redirect_uris=listed(args.post_logout_redirect_uris), scope=args.scope,
        grant_types=listed(args.grant_types), auth_method=args.auth_method, id_token_alg=args.id_token_alg,
        cors_origins=listed(args.cors_origins), client_uri=args.client_uri,
        backchannel_logout_uri=args.backchannel_logout_uri,
        backchannel_logout_session_required=args.backchannel_logout_session_required, apis=listed(args.apis))
    if change == ops.ClientUpdate():
        raise UsageError("nothing to change: give at least one option")
    async with backends(env) as b:
        record = await ops.update(b, args.client_id, change)
    emit(record.to_json(), args.json, f"client {args.client_id} updated")
    return 0


async def run_list(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    async with backends(env) as b:
        docs = [r.to_json() for r in await ops.list_clients(b)]
    emit(docs, args.json, "\n".join(_summary(d) for d in docs) or "no clients")
    return 0


async def run_show(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    async with backends(env) as b:
        doc = (await ops.show(b, args.client_id)).to_json()
    emit(doc, args.json, "\n".join(f"{k}: {v}" for k, v in doc.items()))
    return 0


async def run_delete(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    async with backends(env) as b:
        doc = (await ops.delete(b, args.client_id)).to_json()
    emit({**doc, "deleted": True}, args.json, f"client {args.client_id} deleted; its tokens are revoked")
    return 0


async def run_disable(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    async with backends(env) as b:
        doc = (await ops.set_disabled(b, args.client_id, True)).to_json()
    emit(doc, args.json, f"client {args.client_id} disabled; its tokens are revoked")
    return 0


async def run_enable(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    async with backends(env) as b:
        doc = (await ops.set_disabled(b, args.client_id, False)).to_json()
    emit(doc, args.json, f"client {args.client_id} enabled")
    return 0


async def run_rotate(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    async with backends(env) as b:
        record = await ops.rotate_secret(b, args.client_id, overlap_seconds=args.overlap)
    until = f"\nthe old secret works for {args.overlap} more seconds" if args.overlap else \
        "\nthe old secret no longer works"
    emit(record.to_json(), args.json, _with_secret(record) + until)
    return 0
