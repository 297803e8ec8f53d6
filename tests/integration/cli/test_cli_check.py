"""`latchkey check` against a running deployment: the three apps on spare ports over a private
database and the run's Redis, configured as `make run` configures them (LATCHKEY_DEV=1, http on
loopback, the dev key), and the command run as a user runs it (a subprocess with an env)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import sys
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from services.authorize.app import create_app as authorize_app
from services.resource.app import create_app as resource_app
from services.token.app import create_app as token_app
from shared.config import DEV_KEY_ENCRYPTION_KEY, Settings
from tests.bench.support import REPO_ROOT, free_port
from tests.support.databases import fresh_database
from tests.support.redis_sentinel import sentinel_group


@dataclasses.dataclass
class Deployment:
    env: dict[str, str]  # what the services were started with: the check reads the same


@contextlib.asynccontextmanager
async def running(env: dict[str, str]) -> AsyncIterator[Deployment]:
    ports = {name: free_port() for name in ("authorize", "token", "resource")}
    env = {**env, "LATCHKEY_ISSUER": f"http://127.0.0.1:{ports['authorize']}",
           "LATCHKEY_TOKEN_URL": f"http://127.0.0.1:{ports['token']}",
           "LATCHKEY_RESOURCE_URL": f"http://127.0.0.1:{ports['resource']}"}
    settings = Settings.from_env(env)
    runners = []
    try:
        for name, factory in (("token", token_app), ("authorize", authorize_app), ("resource", resource_app)):
            runner = web.AppRunner(factory(settings))
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", ports[name]).start()
            runners.append(runner)
        yield Deployment(env)
    finally:
        for runner in reversed(runners):
            await runner.cleanup()


@pytest.fixture
async def deployment(server_urls, test_env) -> AsyncIterator[Deployment]:
    """`make run`'s shape: dev mode, http on loopback, the published dev key."""
    async with fresh_database(server_urls[0]) as database_url:
        env = {**test_env, "DATABASE_URL": database_url, "LATCHKEY_KEY_ENCRYPTION_KEY": DEV_KEY_ENCRYPTION_KEY}
        async with running(env) as deployment:
            yield deployment


async def check(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shared.cli.main", "check", *args, cwd=REPO_ROOT,
        env={k: v for k, v in {**os.environ, **env}.items() if k != "LATCHKEY_DEV" or env.get(k)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def failed_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("FAIL")]


async def test_a_dev_deployment_passes_with_warnings(deployment):
    code, out, err = await check(deployment.env, "--json")
    assert out, err
    report = json.loads(out)
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert (code, failed) == (0, []), out + err
    assert report["ok"] is True
    warned = {c["name"] for c in report["checks"] if c["status"] == "warn"}
    assert {"https", "key-encryption key"} <= warned  # dev-only findings: warnings on LATCHKEY_DEV=1
    names = {c["name"] for c in report["checks"]}
    assert {"pkce required", "code lifetime", "refresh rotation", "jwks keys", "active keys", "key rotation",
            "postgres", "redis", "clock postgres", "clock redis", "discovery /.well-known/openid-configuration",
            "discovery /.well-known/openid-configuration iss", "discovery /.well-known/openid-configuration pkce",
            "key-encryption key decrypts"} <= names


async def test_the_dev_key_outside_dev_fails(deployment):
    code, out, _ = await check({**deployment.env, "LATCHKEY_DEV": ""})
    assert code == 1
    assert "FAIL key-encryption key: LATCHKEY_KEY_ENCRYPTION_KEY is the published dev key" in failed_lines(out)


async def test_an_http_issuer_outside_dev_fails(deployment):
    code, out, _ = await check({**deployment.env, "LATCHKEY_DEV": ""})
    assert code == 1
    [https] = [line for line in failed_lines(out) if line.startswith("FAIL https:")]
    assert f"LATCHKEY_ISSUER is {deployment.env['LATCHKEY_ISSUER']}" in https and "not https" in https


async def test_an_unreachable_redis_fails(deployment):
    code, out, _ = await check({**deployment.env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    assert code == 1
    [line] = failed_lines(out)
    assert line.startswith("FAIL redis: unreachable at REDIS_URL")


async def test_a_sentinel_redis_is_checked_and_its_replica_needs_confirmed_revocations(deployment):
    """REDIS_URL in its Sentinel form reaches the primary; a replica that revocations do not wait
    for is a failure (a failover could bring a revoked token back), one they wait for is fine."""
    with sentinel_group() as group:
        sentinel = {**deployment.env, "REDIS_URL": group.url}
        code, out, _ = await check({**sentinel, "LATCHKEY_REVOCATION_REPLICAS": "0"})
        assert code == 1
        assert [line for line in failed_lines(out) if "redis" in line] == [
            "FAIL redis replication: 1 replica(s) but LATCHKEY_REVOCATION_REPLICAS=0: a failover can bring a "
            "revoked access token back; set LATCHKEY_REVOCATION_REPLICAS=1"]
        assert any(line.startswith("OK   redis: reachable, Redis ") for line in out.splitlines()), out
        _, out, _ = await check({**sentinel, "LATCHKEY_REVOCATION_REPLICAS": "1"})
        assert not [line for line in failed_lines(out) if "redis" in line]
        assert "OK   redis replication: 1 replica(s); revocations wait for 1" in out.splitlines()


async def test_settings_that_disagree_with_what_is_served_fail(deployment):
    """The check compares what the public URLs serve with the settings it is given."""
    elsewhere = {**deployment.env, "LATCHKEY_TOKEN_URL": f"http://127.0.0.1:{free_port()}",
                 "LATCHKEY_REQUIRE_PKCE": "0", "LATCHKEY_CODE_TTL_SECONDS": "300"}
    code, out, _ = await check(elsewhere)
    assert code == 1
    failed = "\n".join(failed_lines(out))
    assert "FAIL discovery /.well-known/openid-configuration: token_endpoint is" in failed
    assert "FAIL jwks: cannot fetch" in failed
    assert "FAIL pkce required" in failed and "FAIL code lifetime" in failed


async def test_keys_rotated_a_moment_ago_are_a_warning_not_a_failure(server_urls, test_env):
    """`keys rotate`, then `check` at once: the token service has not loaded the new keys yet (it
    looks every LATCHKEY_KEY_POLL_SECONDS, here 300, so the check cannot race it)."""
    async with fresh_database(server_urls[0]) as database_url:
        env = {**test_env, "DATABASE_URL": database_url, "LATCHKEY_KEY_ENCRYPTION_KEY": DEV_KEY_ENCRYPTION_KEY,
               "LATCHKEY_KEY_POLL_SECONDS": "300", "LATCHKEY_KEY_ANNOUNCE_SECONDS": "3600"}
        async with running(env) as deployment:
            rotated = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "shared.cli.main", "keys", "rotate", "--json", cwd=REPO_ROOT,
                env={**os.environ, **deployment.env}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(rotated.communicate(), 60)
            assert rotated.returncode == 0, err.decode()
            code, out_text, err_text = await check(deployment.env, "--json")
    report = json.loads(out_text)
    [jwks] = [c for c in report["checks"] if c["name"] == "jwks keys"]
    assert jwks["status"] == "warn" and "not served yet" in jwks["message"], jwks
    assert code == 0, out_text + err_text
