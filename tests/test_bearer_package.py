"""latchkey-bearer: the verifier installed alone, as the README says, verifies real tokens.

The README's install command runs in an empty virtual environment (pip may fetch aiohttp, PyJWT
and cryptography); the server's dependencies must stay out of it, and the README's example API,
run by that environment's Python outside the repository, must accept a token minted by the token
service's own code and refuse a tampered one.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from services.token.core.claims import AccessPlan, access_token_claims
from shared.crypto.signing_keys import SigningKey, generate_private_key, public_jwk
from shared.tokens.jws_sign import JwsSigner
from shared.tokens.minting import mint_access_token
from tests.bench.support import free_port

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("### The verifier alone: `latchkey-bearer`", 1)[-1].split("\n## ", 1)[0]
INSTALL = "pip install ./packaging/bearer"
# The server's own dependencies, and redis (only with the [redis] extra): pip names, lower case.
NOT_INSTALLED = ("latchkey", "asyncpg", "argon2-cffi", "jinja2", "aiohttp-jinja2", "redis")
ISSUER, AUDIENCE = "https://id.example.test", "https://notes.example.test"

pytestmark = pytest.mark.slow


def _example() -> str:
    match = re.search(r"```python\n(.*?)```", SECTION, re.S)
    assert match, "the README's latchkey-bearer section has no Python example"
    return match.group(1)


def _run(*args: str | Path, cwd: Path) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")})
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _pip(python: Path, *args: str) -> list[str | Path]:
    # This environment's pip, installing into the new one (pip --python): saves the ensurepip step.
    return [sys.executable, "-m", "pip", "--python", python, *args]


@pytest.fixture(scope="module")
def bearer_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty venv with only the README's install command run in it, from the clone's root."""
    assert f"```sh\n{INSTALL}\n```" in SECTION, "the test runs the README's install command; keep them equal"
    venv = tmp_path_factory.mktemp("bearer") / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=ROOT)
    python: Path = venv / "bin" / "python"
    _run(*_pip(python, *INSTALL.split()[1:], "--quiet"), cwd=ROOT)
    return python


def test_the_verifier_installs_without_the_servers_dependencies(bearer_python):
    listed = _run(bearer_python, "-c", "import importlib.metadata as m, json;"
                  "print(json.dumps([d.metadata['Name'] for d in m.distributions()]))", cwd=bearer_python.parent)
    installed = {name.lower().replace("_", "-") for name in json.loads(listed)}
    assert {"latchkey-bearer", "aiohttp", "pyjwt", "cryptography"} <= installed
    assert installed.isdisjoint(NOT_INSTALLED), sorted(installed & set(NOT_INSTALLED))
    # Importable under its own name only: no top-level `shared` to clash with the application's.
    found = _run(bearer_python, "-c", "import importlib.util as u, latchkey_bearer;"
                 "print(u.find_spec('shared'), latchkey_bearer.BearerConfig.__module__)", cwd=bearer_python.parent)
    assert found.split() == ["None", "latchkey_bearer.config"]


@contextlib.asynccontextmanager
async def serving_jwks(jwk: dict[str, Any]) -> AsyncIterator[str]:
    async def jwks(request: web.Request) -> web.Response:
        return web.json_response({"keys": [jwk]}, headers={"Cache-Control": "max-age=300"})

    app = web.Application()
    app.router.add_get("/jwks", jwks)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/jwks"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def example_api(python: Path, workdir: Path, jwks_url: str) -> AsyncIterator[str]:
    """The README's example, run by the venv's Python from a folder outside the repository."""
    (workdir / "notes_api.py").write_text(_example())
    port = free_port()
    env = {"PATH": os.environ["PATH"], "LATCHKEY_ISSUER": ISSUER, "LATCHKEY_AUDIENCE": AUDIENCE,
           "LATCHKEY_JWKS_URL": jwks_url, "PORT": str(port)}
    process = await asyncio.create_subprocess_exec(python, "notes_api.py", cwd=workdir, env=env,
                                                   stdout=asyncio.subprocess.DEVNULL,
                                                   stderr=asyncio.subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            if process.returncode is not None or time.monotonic() > deadline:
                stderr = await process.stderr.read() if process.stderr else b""
                pytest.fail(f"the example API did not start: {stderr.decode(errors='replace')}")
            await asyncio.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 10)


def _token(signer: JwsSigner, scope: str) -> str:
    """Minted as the token service mints one (its claim builder, its signer)."""
    claims = access_token_claims(AccessPlan.new(int(time.time()), 600), issuer=ISSUER, subject="user-42",
                                 audience=AUDIENCE, client_id="notes-app", scope=scope, auth_time=None)
    return mint_access_token(signer, claims)


def _tampered(token: str) -> str:
    """The same signature over a payload that now names another user."""
    header, payload, signature = token.split(".")
    claims = json.loads(_b64decode(payload))
    claims["sub"] = "someone-else"
    forged = _b64encode(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{forged}.{signature}"


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_the_readme_example_verifies_a_real_token_and_refuses_a_tampered_one(bearer_python, tmp_path):
    private_key = generate_private_key("RS256")  # the token service's default access-token algorithm
    jwk = public_jwk(private_key, "RS256")
    signer = JwsSigner(SigningKey(jwk["kid"], "RS256", private_key, jwk))
    good = _token(signer, "openid notes:read")

    async with serving_jwks(jwk) as jwks_url, example_api(bearer_python, tmp_path, jwks_url) as api, \
            aiohttp.ClientSession() as http:
        async def get(token: str | None) -> tuple[int, str, str]:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with http.get(f"{api}/notes", headers=headers) as response:
                return response.status, response.headers.get("WWW-Authenticate", ""), await response.text()

        status, _, body = await get(good)
        assert (status, json.loads(body)) == (200, {"user": "user-42", "scopes": ["notes:read", "openid"]})

        status, challenge, body = await get(_tampered(good))
        assert status == 401 and 'error="invalid_token"' in challenge
        assert json.loads(body)["error"] == "invalid_token"

        status, challenge, _ = await get(_token(signer, "openid"))
        assert status == 403 and 'error="insufficient_scope"' in challenge and 'scope="notes:read"' in challenge

        status, challenge, body = await get(None)
        assert (status, challenge, body) == (401, 'Bearer realm="latchkey"', "")
