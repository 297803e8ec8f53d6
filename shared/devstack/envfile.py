"""`.devdata/env`: the environment `make run` gave its services, for the `latchkey` command.

The CLI reads its configuration from the environment like the services do, so while `make run`
is up, `make cli ARGS="keys list --json"` (or `. .devdata/env` in a shell) points it at the same
servers, URLs and key-encryption key. A value the caller supplied that may hold a password
(their own DATABASE_URL, REDIS_URL or key-encryption key) is not copied to disk: their shell
has it already. What `make run` chose itself (embedded servers without passwords, the dev KEK
kept in `.devdata/kek` anyway) is written, in a file only its owner can read.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path

from shared.config import documented_variables

ENV_FILE = "env"
# Read by `latchkey demo seed` but not a Settings field.
EXTRA_VARIABLES = ("LATCHKEY_DEMO_URL",)
SECRETS = ("DATABASE_URL", "REDIS_URL", "LATCHKEY_KEY_ENCRYPTION_KEY")


def cli_variables() -> list[str]:
    """Every variable the `latchkey` command reads, in the README table's order."""
    return [name for name, _, _ in documented_variables()] + list(EXTRA_VARIABLES)


def render(child_env: Mapping[str, str], supplied: Iterable[str], path: Path) -> str:
    """Shell lines exporting the CLI's variables from ``child_env``; ``supplied`` names the
    variables taken from the caller's environment (their secrets are left out)."""
    supplied = set(supplied)
    lines = ["# Written by `make run` while it runs and removed when it stops. Use it with",
             "#   make cli ARGS=\"keys list --json\"",
             f"# or, in a shell:  . {shlex.quote(str(path))} && .venv/bin/latchkey keys list --json"]
    for name in cli_variables():
        value = child_env.get(name)
        if not value:
            continue
        if name in SECRETS and name in supplied:
            lines.append(f"# {name}: from your environment, not written here")
            continue
        lines.append(f"export {name}={shlex.quote(value)}")
    return "\n".join(lines) + "\n"


def write_env_file(path: Path, child_env: Mapping[str, str], supplied: Iterable[str]) -> None:
    """Replaces ``path`` atomically with mode 0600: it may hold the dev key-encryption key."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(render(child_env, supplied, path))
    os.replace(tmp, path)
