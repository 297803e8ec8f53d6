"""The OpenAPI 3.1 document matches the implementation: the same routes, and schemathesis finds
no 5xx and no answer outside the document when it runs against the real server."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from services.admin.routes import routes
from tests.integration.admin.conftest import problem

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
METHODS = {"get", "post", "put", "patch", "delete"}


async def test_the_document_lists_exactly_the_route_table(admin, http):
    async with http.get(admin.url + "/admin/v1/openapi.json", headers=admin.auth()) as response:
        assert response.status == 200
        document = await response.json()
    assert document["openapi"].startswith("3.1")
    documented = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item if method in METHODS}
    implemented = {(r.method, r.path) for r in routes() if r.method != "HEAD"}
    assert documented == implemented


async def test_the_document_needs_a_token_like_everything_else(admin, http):
    async with http.get(admin.url + "/admin/v1/openapi.json") as response:
        await problem(response, 401)


async def test_schemathesis_finds_the_running_server_true_to_its_document(admin, tmp_path):
    """Bounded: a few examples per operation, one worker, loopback only. DELETE is left out: it
    revokes admin tokens, and schemathesis reuses the names it saw listed, its own token's too
    (revocation is tested in test_admin_endpoints)."""
    # A body past LATCHKEY_MAX_BODY_BYTES is refused with 413 (documented) before its schema is
    # read: that is a rejection of invalid data too (schemathesis's default list lacks 413).
    (tmp_path / "schemathesis.toml").write_text(
        '[checks.negative_data_rejection]\nexpected-statuses = ["400", "401", "403", "404", "405", "406", '
        '"409", "413", "415", "422", "428", "429", "5xx"]\n')
    proc = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS), "run", admin.url + "/admin/v1/openapi.json",
        "--header", f"Authorization: Bearer {admin.token}",
        "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                    "response_schema_conformance,unsupported_method,negative_data_rejection",
        "--max-examples", "25", "--workers", "1", "--phases", "examples,coverage,fuzzing",
        "--request-timeout", "10", "--no-color", "--exclude-method", "DELETE",
        env={**os.environ, "NO_PROXY": "127.0.0.1", "SCHEMATHESIS_HOOKS": ""}, cwd=tmp_path,  # its .hypothesis/
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=240)
    report = out.decode(errors="replace")
    assert proc.returncode == 0, report[-6000:]
