"""shared/bearer ships alone as latchkey_bearer: it may import only itself and its dependencies.

The fast guard of what tests/test_bearer_package.py (marked slow) proves by installing it: every
module imports with the rest of the repository and redis (an optional extra) out of reach.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BEARER = Path(__file__).resolve().parents[3] / "shared" / "bearer"

# Run in a fresh interpreter: a finder placed first refuses the server's modules and redis.
_PROBE = """
import importlib, importlib.abc, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        inside = name in ("shared", "shared.bearer") or name.startswith("shared.bearer.")
        if top in ("services", "examples", "redis", "asyncpg", "argon2", "jinja2") or (top == "shared" and not inside):
            raise ImportError(f"latchkey_bearer may not import {name}")

sys.meta_path.insert(0, Refuse())
import shared.bearer as bearer
assert sorted(bearer.__all__) == sorted(bearer._EXPORTS), "__all__ and the lazy exports differ"
for module in sys.argv[1:]:
    importlib.import_module(f"shared.bearer.{module}")
for name in bearer.__all__:
    getattr(bearer, name)
print("ok")
"""


def test_every_bearer_module_imports_without_the_server_or_redis():
    modules = sorted(p.stem for p in BEARER.glob("*.py") if p.stem != "__init__")
    assert "verifier" in modules and "revocation" in modules
    done = subprocess.run([sys.executable, "-c", _PROBE, *modules], cwd=BEARER.parents[1],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
