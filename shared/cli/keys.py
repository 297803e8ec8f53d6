"""`latchkey keys rotate|list`: signing keys (see shared.keyring for the life cycle)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from shared.cli.output import emit
from shared.config import SIGNING_ALGS, Settings
from shared.db import connect
from shared.errors import UsageError

if TYPE_CHECKING:
    from shared.models import StoredSigningKey

# The key ring and the signing-key store are imported by the commands that use them: every
# service starts through this CLI (`latchkey serve`), and only the token service signs.


def register(commands) -> None:
    keys = commands.add_parser("keys", help="manage signing keys").add_subparsers(dest="action", required=True)
    rotate = keys.add_parser("rotate",
                             help="announce a new signing key per algorithm (active at once if there is none)")
    rotate.add_argument("--alg", choices=SIGNING_ALGS, help="rotate only this algorithm's key")
    rotate.add_argument("--json", action="store_true")
    rotate.set_defaults(handler=run_rotate)
    listing = keys.add_parser("list", help="list signing keys (public parts only)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=run_list)


def describe(key: StoredSigningKey) -> dict:
    return {"kid": key.kid, "alg": key.alg, "status": key.status, "created_at": key.created_at.isoformat(),
            "activates_at": key.activates_at.isoformat(),
            "retired_at": key.retired_at.isoformat() if key.retired_at else None,
            "publish_until": key.publish_until.isoformat() if key.publish_until else None}


async def run_rotate(args, env: Mapping[str, str]) -> int:
    """A new key for every algorithm the key ring uses (configured, or still holding an active
    key), or for one. With --json: the first new key's fields, as before there were several
    algorithms, and every new key under "keys"."""
    from shared.keyring import add_keys, rotated_algs
    from shared.stores.pg_signing_keys import PgSigningKeys

    settings = Settings.from_env(env)
    conn = await connect(settings)
    try:
        ring = rotated_algs(settings, await PgSigningKeys(conn).all())
        if args.alg and args.alg not in ring:
            raise UsageError(f"--alg {args.alg} is not in the key ring ({', '.join(ring)}); "
                             "configure it with LATCHKEY_SIGNING_ALG or LATCHKEY_ID_TOKEN_SIGNING_ALG")
        created = await add_keys(conn, settings, [args.alg] if args.alg else ring)
    finally:
        await conn.close()
    emit({**describe(created[0]), "keys": [describe(k) for k in created]}, args.json,
         "\n".join(f"key {k.kid} ({k.alg}) is {k.status}, signs from {k.activates_at:%Y-%m-%d %H:%M:%S %Z}"
                   for k in created))
    return 0


async def run_list(args, env: Mapping[str, str]) -> int:
    from shared.stores.pg_signing_keys import PgSigningKeys

    settings = Settings.from_env(env)
    conn = await connect(settings)
    try:
        keys = await PgSigningKeys(conn).all()
    finally:
        await conn.close()
    emit([describe(k) for k in keys], args.json,
         "\n".join(f"{k.kid}  {k.alg}  {k.status}" for k in keys) or "no keys")
    return 0
