"""`latchkey migrate`: apply the SQL migrations."""

from __future__ import annotations

from collections.abc import Mapping

from shared.cli.commands import Args, Commands
from shared.cli.output import emit
from shared.config import Settings
from shared.db import connect


def register(commands: Commands) -> None:
    cmd = commands.add_parser("migrate", help="apply database migrations")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=run)


async def run(args: Args, env: Mapping[str, str]) -> int:
    from shared.migrate import available_migrations, migrate  # not loaded by `latchkey serve`

    settings = Settings.from_env(env)
    conn = await connect(settings)
    try:
        applied = await migrate(conn)
    finally:
        await conn.close()
    current = available_migrations()[-1].version
    emit({"applied": [m.version for m in applied], "current": current}, args.json,
         f"applied {len(applied)} migration(s); schema version {current}")
    return 0
