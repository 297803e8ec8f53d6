"""`latchkey api create|list|show|update|delete`: the APIs (resource servers) tokens are for.

Parsing and printing only; every rule is in shared.management.apis.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import asyncpg

from shared.cli.connect import backends
from shared.cli.output import emit
from shared.config import Settings
from shared.db import connect
from shared.management import apis
from shared.management.backends import Backends

T = TypeVar("T")


def register(commands: Any) -> None:
    api = commands.add_parser("api", help="manage APIs (resource servers)").add_subparsers(dest="action",
                                                                                          required=True)
    create = api.add_parser("create", help="define an API and its scopes")
    create.add_argument("--identifier", required=True, help="absolute https URI: the resource value and token aud")
    create.add_argument("--name", required=True)
    create.add_argument("--scope", action="append", default=[], dest="scopes", metavar="NAME=DESCRIPTION")
    create.add_argument("--access-token-ttl", type=int, metavar="SECONDS")
    create.add_argument("--with-secret", action="store_true", help="credentials for introspection (printed once)")
    create.set_defaults(handler=run_create)

    listing = api.add_parser("list", help="every API")
    listing.set_defaults(handler=run_list)

    show = api.add_parser("show", help="one API")
    show.add_argument("identifier")
    show.set_defaults(handler=run_show)

    update = api.add_parser("update", help="change an API's name, scopes or token lifetime")
    update.add_argument("identifier")
    update.add_argument("--name")
    update.add_argument("--add-scope", action="append", default=[], dest="add_scopes", metavar="NAME=DESCRIPTION")
    update.add_argument("--remove-scope", action="append", default=[], dest="remove_scopes", metavar="NAME")
    update.add_argument("--scope", action="append", dest="replace_scopes", metavar="NAME=DESCRIPTION",
                        help="replaces the whole scope list (repeatable)")
    ttl = update.add_mutually_exclusive_group()
    ttl.add_argument("--access-token-ttl", type=int, metavar="SECONDS")
    ttl.add_argument("--default-access-token-ttl", action="store_true",
                     help="use LATCHKEY_ACCESS_TOKEN_TTL_SECONDS again")
    update.set_defaults(handler=run_update)

    delete = api.add_parser("delete", help="delete an API (refused while a client uses it)")
    delete.add_argument("identifier")
    delete.add_argument("--force", action="store_true", help="unlink its clients and revoke its tokens")
    delete.set_defaults(handler=run_delete)

    for parser in (create, listing, show, update, delete):
        parser.add_argument("--json", action="store_true")


async def _with_conn(env: Mapping[str, str], work: Callable[[asyncpg.Connection, Settings], Awaitable[T]]) -> T:
    settings = Settings.from_env(env)
    conn = await connect(settings)
    try:
        return await work(conn, settings)
    finally:
        await conn.close()


def _conn(b: Backends) -> asyncpg.Connection:
    assert isinstance(b.db, asyncpg.Connection)  # a command holds one connection (shared.cli.connect)
    return b.db


def _human(record: apis.ApiRecord) -> str:
    doc = record.to_json()
    lines = [f"{doc['identifier']}  {doc['name']}"]
    lines += [f"  {s['name']}: {s['description']}" for s in doc["scopes"]]
    if record.client_secret:
        lines += [f"client_id: {doc['client_id']}",
                  f"client_secret: {record.client_secret}  (shown once; store it now)"]
    return "\n".join(lines)


async def run_create(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    record = await _with_conn(env, lambda conn, settings: apis.create_api(
        conn, identifier=args.identifier, name=args.name, scopes=args.scopes,
        access_token_ttl=args.access_token_ttl, with_secret=args.with_secret, dev_mode=settings.dev_mode))
    emit(record.to_json(), args.json, _human(record))
    return 0


async def run_list(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    records = await _with_conn(env, lambda conn, _: apis.list_apis(conn))
    emit([r.to_json() for r in records], args.json, "\n".join(_human(r) for r in records) or "no APIs")
    return 0


async def run_show(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    record = await _with_conn(env, lambda conn, _: apis.show_api(conn, args.identifier))
    emit(record.to_json(), args.json, _human(record))
    return 0


async def run_update(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    changes: dict[str, Any] = {}
    if args.access_token_ttl is not None:
        changes["access_token_ttl"] = args.access_token_ttl
    elif args.default_access_token_ttl:
        changes["access_token_ttl"] = None
    async with backends(env) as b:
        record = await apis.update_api(
            _conn(b), args.identifier, name=args.name, add_scopes=args.add_scopes, remove_scopes=args.remove_scopes,
            replace_scopes=args.replace_scopes, **changes)
        await b.clients_changed()  # clients' cached scopes and audiences come from their APIs
    emit(record.to_json(), args.json, _human(record))
    return 0


async def run_delete(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    async with backends(env) as b:
        result = await apis.delete_api(_conn(b), b.denylist, args.identifier, force=args.force,
                                       default_audience=b.settings.access_audience)
        await b.clients_changed()  # a forced delete unlinks clients: their cached copies are stale
    emit(result.to_json(), args.json, f"deleted {result.identifier}; revoked {result.revoked_refresh_tokens} "
         f"refresh token(s), deny-listed {result.denylisted_access_tokens} access token(s)")
    return 0
