"""`.devdata/env`, what `make cli` reads: the CLI's variables, never a secret the caller supplied."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from shared.config import documented_variables
from shared.devstack.envfile import render, write_env_file

STACK = {
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:15432/latchkey",
    "REDIS_URL": "redis://127.0.0.1:16379/0",
    "LATCHKEY_DEV": "1",
    "LATCHKEY_KEY_ENCRYPTION_KEY": "a" * 43,
    "LATCHKEY_ISSUER": "http://localhost:8001",
    "LATCHKEY_DEMO_URL": "http://localhost:8000",
    "PYTHONUNBUFFERED": "1",
    "HOME": "/root",
}


def test_what_make_run_chose_is_exported_and_nothing_else() -> None:
    text = render(STACK, supplied=["HOME"], path=Path(".devdata/env"))
    exported = [line for line in text.splitlines() if line.startswith("export ")]
    assert exported == [f"export {name}={shlex.quote(STACK[name])}" for name in
                        ("DATABASE_URL", "REDIS_URL", "LATCHKEY_DEV", "LATCHKEY_ISSUER",
                         "LATCHKEY_KEY_ENCRYPTION_KEY", "LATCHKEY_DEMO_URL")]
    assert "HOME" not in text and "PYTHONUNBUFFERED" not in text


def test_secrets_from_the_callers_environment_are_not_written() -> None:
    env = {**STACK, "DATABASE_URL": "postgresql://app:s3cret@db.internal/latchkey",
           "LATCHKEY_KEY_ENCRYPTION_KEY": "their-own-key"}
    text = render(env, supplied=["DATABASE_URL", "LATCHKEY_KEY_ENCRYPTION_KEY", "LATCHKEY_ISSUER"], path=Path("env"))
    assert "s3cret" not in text and "their-own-key" not in text
    assert "# DATABASE_URL: from your environment, not written here" in text
    # Not secret: a setting the caller chose is passed on, so the CLI sees what the services see.
    assert f"export LATCHKEY_ISSUER={STACK['LATCHKEY_ISSUER']}" in text


def test_the_file_is_private_and_a_shell_reads_back_the_same_values(tmp_path: Path) -> None:
    path = tmp_path / "env"
    odd = {**STACK, "LATCHKEY_REDIS_PREFIX": "it's $HOME `x`:"}
    write_env_file(path, odd, supplied=[])
    assert os.stat(path).st_mode & 0o777 == 0o600
    names = [name for name, _, _ in documented_variables() if name in odd]
    script = f". {shlex.quote(str(path))} && " + " && ".join(f'printf "%s\\n" "${name}"' for name in names)
    out = subprocess.run(["sh", "-c", script], env={"PATH": os.environ["PATH"]}, capture_output=True,
                         text=True, check=True).stdout
    assert out.splitlines() == [odd[name] for name in names]
