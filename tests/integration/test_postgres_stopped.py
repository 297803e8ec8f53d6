"""PostgreSQL stopped with `pg_ctl stop -m immediate` (a crash, as the issue's fault run did):
every service answers 503 temporarily_unavailable with Retry-After, /userinfo included (it was
a 500), /readyz turns 503 within its probe bound, and all recover once PostgreSQL is back.

A PRIVATE PostgreSQL on a spare port (never the machine's); Redis is the run's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from services.authorize.app import create_app as authorize_app
from services.resource.app import create_app as resource_app
from services.token.app import create_app as token_app
from shared.db import create_pool
from shared.devstack import spare_port, start_postgres
from shared.devstack.postgres import EmbeddedPostgres
from shared.devstack.privileges import postgres_account
from shared.devstack.supervise import run_once
from shared.logout.queue import LogoutQueue
from shared.management import clients as client_ops
from shared.management.backends import Backends
from shared.migrate import migrate
from shared.stores.redis_sessions import RedisSessions
from tests.integration.token.helpers import exchange, issue_code, refresh
from tests.support.access_lines import access_lines
from tests.support.factories import make_client, make_user
from tests.support.flows import Pkce, authorization_params, open_login, submit_login
from tests.support.processes import processes_under
from tests.support.secrets import logged_test_server
from tests.support.typed import AppClient

REDIRECT_URI = "https://app.example/callback"


class PrivatePostgres:
    def __init__(self, root: Path) -> None:
        self.root, self.port = root, spare_port()
        self.server: EmbeddedPostgres = start_postgres(root, self.port)

    def crash(self) -> None:
        """`pg_ctl stop -m immediate`, run as the account the server runs as."""
        pgdata = self.server.root / "data"
        done = run_once([self.server.binaries.bindir / "pg_ctl", "-D", pgdata, "stop", "-m", "immediate", "-w"],
                        user=postgres_account(pgdata), cwd=self.server.root, timeout=30)
        assert done.returncode == 0, done.stdout
        self.server.stop()  # reaps the exited postmaster

    def restart(self) -> None:
        self.server = start_postgres(self.root, self.port)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    root = Path(tempfile.mkdtemp(prefix="latchkey-pgstop-"))  # 0700: start_postgres lets its account in
    try:
        pg = PrivatePostgres(root / "postgres")
        try:
            yield pg
        finally:
            pg.server.stop()
    finally:
        leftovers = processes_under(root)
        shutil.rmtree(root, ignore_errors=True)
        assert not leftovers, f"PostgreSQL processes left running: {leftovers}"


@contextlib.asynccontextmanager
async def serving(app) -> AsyncIterator[AppClient]:
    async with TestClient(logged_test_server(app)) as http:  # with the services' access lines
        yield http


async def eventually(check: Callable[[], Awaitable[bool]], within: float) -> float:
    """Seconds until ``check`` held; fails after ``within``."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < within, f"not within {within} s"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


def unavailable(response, body: str) -> bool:
    return response.status == 503 and int(response.headers.get("Retry-After", "0")) >= 1 and \
        "temporarily" in body.lower()


async def test_postgres_crash_is_503_with_retry_after_everywhere_then_recovers(private_postgres, settings, caplog):
    caplog.set_level(logging.INFO, "latchkey.access")
    conn = await asyncpg.connect(private_postgres.server.dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    s = dataclasses.replace(settings, database_url=private_postgres.server.dsn)
    pool = await create_pool(s)
    client = await make_client(pool, redirect_uris=(REDIRECT_URI,))
    seen, unseen = await make_user(pool, s), await make_user(pool, s)
    pool.terminate()
    # Down within one probe interval plus one timeout (plus scheduling slack on a busy machine).
    ready_bound = s.ready_probe_interval + s.ready_probe_timeout + 1.5
    scope = "openid offline_access"

    async with serving(token_app(s)) as token, serving(authorize_app(s)) as authorize, \
            serving(resource_app(dataclasses.replace(s, jwks_url=str(token.make_url("/jwks"))))) as resource:
        from redis.asyncio import Redis
        redis = Redis.from_url(s.redis_url)
        tokens = {}
        for user in (seen, unseen):
            issued = await issue_code(redis, s, client, user, scope=scope)
            tokens[user.id] = await (await exchange(token, client, issued)).json()
        await redis.aclose()
        assert (await resource.get("/userinfo", headers=bearer(tokens[seen.id]))).status == 200
        authorize_params = authorization_params(client_id=client.client_id, redirect_uri=REDIRECT_URI,
                                                scope="openid", code_verifier=Pkce.new().verifier, state="s")

        private_postgres.crash()

        async def all_unready() -> bool:
            statuses = [(await http.get("/readyz")).status for http in (token, authorize, resource)]
            return statuses == [503, 503, 503]

        took = await eventually(all_unready, within=ready_bound)
        print(f"\n/readyz 503 on all three {took:.1f} s after the crash (bound {ready_bound:.1f} s)")
        for http in (token, authorize, resource):
            assert (await http.get("/readyz")).headers["Retry-After"] == str(s.retry_after)
        unready = await token.get("/readyz")  # the access line says why, not server_error
        lines = await access_lines(caplog, unready.headers["X-Request-Id"])
        assert len(lines) == 1 and "error=temporarily_unavailable reason=not_ready" in lines[0], lines

        response = await refresh(token, client, tokens[seen.id]["refresh_token"])
        assert unavailable(response, await response.text())
        assert (await response.json())["error"] == "temporarily_unavailable"
        response = await resource.get("/userinfo", headers=bearer(tokens[unseen.id]))  # a user not read before
        assert unavailable(response, await response.text())  # was 500 server_error
        assert (await response.json())["error"] == "temporarily_unavailable"
        response = await authorize.get("/authorize", params=authorize_params, allow_redirects=False)
        assert unavailable(response, await response.text())
        assert response.content_type == "text/html" and ">Temporarily unavailable</h1>" in await response.text()
        request_id = response.headers["X-Request-Id"]
        lines = await access_lines(caplog, request_id)
        assert len(lines) == 1 and "error=temporarily_unavailable reason=store_unavailable" in lines[0], lines

        private_postgres.restart()

        async def all_recovered() -> bool:
            answers = [(await token.get("/readyz")).status, (await authorize.get("/readyz")).status,
                       (await resource.get("/readyz")).status,
                       (await resource.get("/userinfo", headers=bearer(tokens[unseen.id]))).status,
                       (await authorize.get("/authorize", params=authorize_params, allow_redirects=False)).status]
            return answers == [200, 200, 200, 200, 302]

        took = await eventually(all_recovered, within=10)
        print(f"recovered {took:.1f} s after PostgreSQL answered again")
        response = await refresh(token, client, tokens[seen.id]["refresh_token"])
        assert response.status == 200  # the refresh refused during the outage spent nothing


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_sign_out_while_postgres_is_down_ends_the_session_and_tells_the_client_once_it_is_back(
        private_postgres, settings):
    """The session ends at once (a user who signs out is signed out); whom to tell needs
    PostgreSQL, so the token service works it out and delivers the logout token once it is back."""
    conn = await asyncpg.connect(private_postgres.server.dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    s = dataclasses.replace(settings, database_url=private_postgres.server.dsn, backchannel_logout_backoff_ms=100)
    posts: list[dict[str, str]] = []

    async def backchannel(request: web.Request) -> web.Response:
        posts.append(dict(await request.post()))  # type: ignore[arg-type]
        return web.Response()

    receiver_app = web.Application()
    receiver_app.router.add_post("/bc", backchannel)
    from redis.asyncio import Redis
    redis = Redis.from_url(s.redis_url)
    pool = await create_pool(s)
    async with TestServer(receiver_app) as receiver, serving(authorize_app(s)) as authorize:
        client = await make_client(pool, redirect_uris=(REDIRECT_URI,))
        await client_ops.update(Backends(pool, redis, s), client.client_id, client_ops.ClientUpdate(
            backchannel_logout_uri=str(receiver.make_url("/bc"))))
        user = await make_user(pool, s)
        pool.terminate()
        params = authorization_params(client_id=client.client_id, redirect_uri=REDIRECT_URI, scope="openid",
                                      code_verifier=Pkce.new().verifier, state="s")
        signed_in = await submit_login(authorize, await open_login(authorize, params), user.username,
                                       "correct horse battery")
        assert signed_in.status in (302, 303)
        sessions = RedisSessions(redis, s.redis_prefix)
        [session] = await sessions.of_user(str(user.id))
        await sessions.record_client(session.sid, client.client_id, 3600)  # the client got tokens in it
        queue = LogoutQueue(redis, s.redis_prefix)

        private_postgres.crash()

        page = await authorize.get("/logout")
        csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text())
        assert page.status == 200 and csrf is not None
        signed_out = await authorize.post("/logout", data={"csrf": csrf.group(1)})
        assert signed_out.status == 200 and "You are signed out" in await signed_out.text()
        assert await sessions.of_user(str(user.id)) == []
        assert await sessions.clients_of(session.sid) == {client.client_id}  # kept for the deferred announcement
        assert await redis.xlen(queue.key) == 1

        private_postgres.restart()
        async with serving(token_app(s)) as token:
            async def told() -> bool:
                return len(posts) == 1

            await eventually(told, within=15)
            jwks = await (await token.get("/jwks")).json()
        await redis.aclose()
    claims = jwt.decode(posts[0]["logout_token"], options={"verify_signature": False})
    assert (claims["sub"], claims["sid"], claims["aud"]) == (str(user.id), session.sid, client.client_id)
    assert jwt.get_unverified_header(posts[0]["logout_token"])["kid"] in {k["kid"] for k in jwks["keys"]}
