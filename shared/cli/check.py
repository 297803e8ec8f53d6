"""`latchkey check [--json]`: audit a running deployment (shared.deploy_check).

Exit 0 when every check passes (warnings allowed: the dev-only findings on LATCHKEY_DEV=1),
else 1, with one line per check ("FAIL name: what is wrong"); --json prints one document.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from shared.cli.output import emit


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = commands.add_parser("check", help="audit a running deployment (exit 1 naming each failed check)")
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=run)


async def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from shared.deploy_check.run import run_checks  # aiohttp is slow to import; only this command needs it

    findings = await run_checks(env)
    failed = [f for f in findings if f.status == "fail"]
    summary = f"{len(failed)} failed, {sum(f.status == 'warn' for f in findings)} warnings, {len(findings)} checks"
    emit({"ok": not failed, "checks": [f.as_dict() for f in findings]}, args.json,
         "\n".join([*(f.line() for f in findings), summary]))
    return 1 if failed else 0
