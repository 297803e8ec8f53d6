"""`latchkey keys rotate|list`: signing keys (see shared.keyring for the life cycle)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shared.cli.commands import Args, Commands
from shared.cli.output import emit
from shared.config import SIGNING_ALGS, Settings
from shared.db import connect

if TYPE_CHECKING:
    from shared.models import StoredSigningKey

# The key ring and the signing-key store are imported by the commands that use them: every
# service starts through this CLI (`latchkey serve`), and only the token service signs.


def register(commands: Commands) -> None:
    keys = commands.add_parser("keys", help="manage signing keys").add_subparsers(dest="action", required=True)
    rotate = keys.add_parser("rotate",
                             help="announce a new signing key per algorithm (active at once if there is none)")
    rotate.add_argument("--alg", choices=SIGNING_ALGS, help="rotate only this algorithm's key")
    rotate.add_argument("--json", action="store_true")
    rotate.set_defaults(handler=run_rotate)
    listing = keys.add_parser("list", help="list signing keys (public parts only)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=run_list)


def describe(key: StoredSigningKey) -> dict[str, Any]:
    from shared.management.keys import KeyRecord

    return KeyRecord(key).to_json()


async def run_rotate(args: Args, env: Mapping[str, str]) -> int:
    """A new key for every algorithm the key ring uses (configured, or still holding an active
    key), or for one. With --json: the first new key's fields, as before there were several
    algorithms, and every new key under "keys"."""
    from shared.management import keys as management_keys

    settings = Settings.from_env(env)
    settings.require_key_encryption_key()  # one line naming the variable, before connecting
    conn = await connect(settings)
    try:
        created = [r.key for r in await management_keys.rotate(conn, settings, args.alg)]
    finally:
        await conn.close()
    emit({**describe(created[0]), "keys": [describe(k) for k in created]}, args.json,
         "\n".join(f"key {k.kid} ({k.alg}) is {k.status}, signs from {k.activates_at:%Y-%m-%d %H:%M:%S %Z}"
                   for k in created))
    return 0


async def run_list(args: Args, env: Mapping[str, str]) -> int:
    from shared.management import keys as management_keys

    settings = Settings.from_env(env)
    conn = await connect(settings)
    try:
        keys = await management_keys.list_keys(conn)
    finally:
        await conn.close()
    emit([k.to_json() for k in keys], args.json,
         "\n".join(f"{k.key.kid}  {k.key.alg}  {k.key.status}" for k in keys) or "no keys")
    return 0
