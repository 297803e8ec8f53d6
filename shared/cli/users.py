"""`latchkey user create|list|show|update|disable|enable|set-password|delete`: parse, call
``shared.management.users``, render. Passwords come on stdin, never in argv."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from shared.cli.commands import Commands
from shared.cli.connect import backends
from shared.cli.output import emit
from shared.errors import UsageError
from shared.management import users as ops


def register(commands: Commands) -> None:
    user = commands.add_parser("user", help="manage users").add_subparsers(dest="action", required=True)
    create = user.add_parser("create", help="add a user")
    create.add_argument("--username", required=True)
    create.add_argument("--email")
    create.add_argument("--name")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.add_argument("--json", action="store_true")
    create.set_defaults(handler=run_create)

    listing = user.add_parser("list", help="every user")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=run_list)
    update = user.add_parser("update", help="change a user's email or name (\"\" clears)")
    update.add_argument("username", metavar="USERNAME")
    update.add_argument("--email")
    update.add_argument("--name")
    update.add_argument("--json", action="store_true")
    update.set_defaults(handler=run_update)
    password = user.add_parser("set-password", help="set a user's password (read from stdin)")
    password.add_argument("username", metavar="USERNAME")
    password.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    password.add_argument("--json", action="store_true")
    password.set_defaults(handler=run_set_password)
    for action, handler, text in (("show", run_show, "one user"),
                                  ("disable", run_disable, "refuse a user's logins and tokens"),
                                  ("enable", run_enable, "let a disabled user sign in again"),
                                  ("delete", run_delete, "delete a user, their consents and tokens")):
        sub = user.add_parser(action, help=text)
        sub.add_argument("username", metavar="USERNAME")
        sub.add_argument("--json", action="store_true")
        sub.set_defaults(handler=handler)


def read_password(args: argparse.Namespace, stream: TextIO | None = None) -> str:
    if not args.password_stdin:
        raise UsageError("--password-stdin is required (passwords are never taken from the command line)")
    return (stream or sys.stdin).readline().rstrip("\r\n")


def _summary(doc: dict[str, Any]) -> str:
    state = " (disabled)" if doc["disabled"] else ""
    return f"{doc['username']}{state}  {doc['email'] or '-'}  {doc['name'] or '-'}  id {doc['id']}"


async def run_create(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    ops.check_username(args.username)
    ops.check_email(args.email)
    password = read_password(args)
    async with backends(env) as b:
        record = await ops.create(b, args.username, password, email=args.email, name=args.name)
    emit(record.to_json(), args.json, f"user {record.user.username} created (id {record.user.id})")
    return 0


async def run_list(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    async with backends(env) as b:
        docs = [r.to_json() for r in await ops.list_users(b)]
    emit(docs, args.json, "\n".join(_summary(d) for d in docs) or "no users")
    return 0


async def run_show(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    async with backends(env) as b:
        doc = (await ops.show(b, args.username)).to_json()
    emit(doc, args.json, "\n".join(f"{k}: {v}" for k, v in doc.items()))
    return 0


async def run_update(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    async with backends(env) as b:
        doc = (await ops.update(b, args.username, email=args.email, name=args.name)).to_json()
    emit(doc, args.json, f"user {doc['username']} updated")
    return 0


async def run_set_password(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    password = read_password(args)
    async with backends(env) as b:
        doc = (await ops.set_password(b, args.username, password)).to_json()
    emit(doc, args.json, f"password of {doc['username']} set")
    return 0


async def run_disable(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    async with backends(env) as b:
        doc = (await ops.set_disabled(b, args.username, True)).to_json()
    emit(doc, args.json, f"user {doc['username']} disabled; their sessions and tokens are revoked")
    return 0


async def run_enable(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    async with backends(env) as b:
        doc = (await ops.set_disabled(b, args.username, False)).to_json()
    emit(doc, args.json, f"user {doc['username']} enabled")
    return 0


async def run_delete(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    async with backends(env) as b:
        doc = (await ops.delete(b, args.username)).to_json()
    emit({**doc, "deleted": True}, args.json, f"user {doc['username']} deleted; their sessions and tokens are revoked")
    return 0
