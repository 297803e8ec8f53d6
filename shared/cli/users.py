"""`latchkey user create`: add a user; the password comes on stdin, never in argv."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from shared.cli.output import emit
from shared.config import Settings
from shared.db import connect
from shared.errors import UsageError
from shared.stores.pg_users import DuplicateUsername, PgUsers

if TYPE_CHECKING:
    from shared.crypto.passwords import Passwords

MIN_PASSWORD_LENGTH = 8


def register(commands) -> None:
    user = commands.add_parser("user", help="manage users").add_subparsers(dest="action", required=True)
    create = user.add_parser("create", help="add a user")
    create.add_argument("--username", required=True)
    create.add_argument("--email")
    create.add_argument("--name")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.add_argument("--json", action="store_true")
    create.set_defaults(handler=run_create)


def read_password(stream=sys.stdin) -> str:
    password = stream.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsageError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    return password


def passwords_for(settings: Settings) -> Passwords:
    # Imported here: every service starts through this CLI, and only authorize hashes passwords.
    from shared.crypto.passwords import Passwords

    return Passwords(None, time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib,
                     parallelism=settings.argon2_parallelism)


async def run_create(args, env: Mapping[str, str]) -> int:
    username = args.username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise UsageError("--username must be 1 to 100 characters without white space")
    if args.email is not None and ("@" not in args.email or len(args.email) > 254):
        raise UsageError(f"--email {args.email!r} is not an email address")
    if not args.password_stdin:
        raise UsageError("--password-stdin is required (passwords are never taken from the command line)")
    password = read_password()
    settings = Settings.from_env(env)
    password_hash = await passwords_for(settings).hash(password)
    conn = await connect(settings)
    try:
        user = await PgUsers(conn).create(username, password_hash, email=args.email, name=args.name)
    except DuplicateUsername:
        raise UsageError(f"username {username!r} already exists") from None
    finally:
        await conn.close()
    emit({"id": str(user.id), "username": user.username, "email": user.email, "name": user.name},
         args.json, f"user {user.username} created (id {user.id})")
    return 0
