"""The replicated topology on one machine, without Docker, through faults (issue 14 items 2, 3).

nginx (Debian's package) is the one origin in front of 2 authorize, 3 token and 2 resource
replicas (``python -m services.X --port P``), over a private PostgreSQL and a private Redis
primary + replica watched by three sentinels (REDIS_URL=redis+sentinel://...). Complete flows
(authorize, login, consent, token, userinfo) run through the gateway from a load thread while
the main thread injects, one after another:

1. SIGKILL of a token replica under load: only requests in flight at that instant may fail;
2. a Redis failover that loses writes: the replica's link is cut, codes are consumed and access
   tokens revoked on the primary only, the primary is SIGKILLed and the sentinels promote the
   replica, which still holds those codes as unused and lacks those revocations. The services
   follow through Sentinel without a restart; the revocations' PostgreSQL rows, kept because no
   replica confirmed them (LATCHKEY_REVOCATION_REPLICAS=1), are written to the new primary;
3. an immediate PostgreSQL stop and start; the services reconnect without a restart.

After each fault every code consumed so far is replayed through every live token replica
(codes redeemed twice must be 0), every rotated refresh token and every revoked access token
is tried again. Run with `make test-scale`; not part of `make test`.

Bounded in time and count, loopback only. The baseline runs flows as fast as they go, at most
BASELINE_FLOWS. A fault phase paces its flows at FAULT_LOAD_FLOWS_PER_SECOND (failed attempts
included, so an outage does not spin) until the main thread has seen a flow complete after the
fault and then PHASE_SECONDS more; PHASE_DEADLINE_SECONDS is the hard stop. A count budget
alone is no bound for a fault phase: at ~130 flows/s it lasted about PHASE_SECONDS, so the load
could be over before the fault was injected and no flow was left to complete after it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote_plus, urlsplit

import aiohttp
import asyncpg
import jwt
import pytest

from shared.bearer.revocation import revoked_jti_key
from shared.config import Settings
from shared.crypto.digests import sha256_hex
from shared.db import create_pool
from shared.devstack import Child, spare_port, spawn
from shared.migrate import migrate
from tests.bench.support import wait_for_http
from tests.scale.gateway import start_nginx
from tests.support.factories import make_client, make_user
from tests.support.flows import Pkce, authorization_params, csrf_token
from tests.support.redis_sentinel import DOWN_AFTER_MS, SentinelGroup, sentinel_group
from tests.support.restartable import RestartablePostgres, private_postgres

pytestmark = pytest.mark.scale

REPO_ROOT = Path(__file__).resolve().parents[2]
REPLICAS = {"authorize": 2, "token": 3, "resource": 2}
REDIRECT_URI = "https://scale.example/callback"
PASSWORD = "scale test password"
CONCURRENCY = 6
BASELINE_FLOWS = 400
PHASE_SECONDS = 3.0  # load before a fault, and again after it has recovered
RECOVERY_LIMIT_SECONDS = 20.0
FAULT_LOAD_FLOWS_PER_SECOND = 40.0
# The load of a fault phase stops by itself after this, whatever the main thread does: before
# the fault, waiting for promotion or a restart, the recovery limit, after the recovery, margin.
PHASE_DEADLINE_SECONDS = 2 * PHASE_SECONDS + 30.0 + RECOVERY_LIMIT_SECONDS + 10.0
REVOKED_PER_PHASE = 5
ROTATED_PER_PHASE = 5
OK, REDIRECT = (200,), (302, 303)
BUSY_RETRIES = 20
STAGED_CODES = 20  # codes consumed on the Redis primary after its replica stopped following
STAGED_REVOCATIONS = 5  # access tokens revoked on the Redis primary after its replica stopped following
REVOKED_REFUSED_WITHIN = 1 + 5.0  # s after the promotion: LATCHKEY_REVOCATION_RETRY_SECONDS + slack


@dataclass
class Outcome:
    flows: int = 0
    failed_requests: int = 0
    failures: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, what)
    successes: list[float] = field(default_factory=list)  # monotonic end time of each complete flow
    consumed: list[tuple[str, str]] = field(default_factory=list)  # (code, PKCE verifier) exchanged for tokens
    tokens: list[dict[str, str]] = field(default_factory=list)
    ended: str = ""  # why the load stopped before it was told to (its count or its deadline), if it did


class Load:
    """Complete flows through the gateway from a thread with its own event loop, so the main
    thread can block on a fault (a server start) while the load goes on."""

    def __init__(self, gateway: str, client_id: str, secret: str, users: list[str]) -> None:
        self._gateway, self._users = gateway, users
        self._auth = _basic(client_id, secret)
        self._client_id = client_id
        self.in_flight: dict[str, int] = {"token": 0, "other": 0}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.outcome = Outcome()
        self._max_flows: int | None = None
        self._rate: float | None = None
        self._next_slot = 0.0

    def start(self, *, max_flows: int | None = None, rate: float | None = None) -> None:
        """Flows until ``stop()``: at most ``max_flows`` when given, started at most ``rate`` per
        second when given; never past PHASE_DEADLINE_SECONDS."""
        assert max_flows is not None or rate is not None, "the load needs a bound"
        self._stop.clear()
        self.outcome = Outcome()
        self._max_flows, self._rate, self._next_slot = max_flows, rate, 0.0
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> Outcome:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=30)
        return self.outcome

    async def _run(self) -> None:
        deadline = asyncio.get_running_loop().time() + PHASE_DEADLINE_SECONDS
        await asyncio.gather(*(self._worker(i, deadline) for i in range(CONCURRENCY)))

    def _may_start(self, now: float, deadline: float) -> bool:
        if self._stop.is_set():
            return False
        if self._max_flows is not None and self.outcome.flows >= self._max_flows:
            self.outcome.ended = self.outcome.ended or f"its {self._max_flows} flows were used up"
            return False
        if now >= deadline:
            self.outcome.ended = self.outcome.ended or f"its {PHASE_DEADLINE_SECONDS:.0f} s deadline passed"
            return False
        return True

    async def _pace(self) -> None:
        """Waits for this flow's slot: one every 1/rate s across the workers, never caught up in
        a burst after slow flows (one event loop: no lock needed)."""
        if self._rate is None:
            return
        now = asyncio.get_running_loop().time()
        slot = max(self._next_slot, now)
        self._next_slot = slot + 1 / self._rate
        await asyncio.sleep(slot - now)

    async def _worker(self, index: int, deadline: float) -> None:
        timeout = aiohttp.ClientTimeout(total=10)
        # unsafe: the gateway is an IP address, whose cookies aiohttp otherwise drops.
        jar = aiohttp.CookieJar(unsafe=True)
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession(self._gateway, timeout=timeout, cookie_jar=jar) as session:
            while True:
                await self._pace()
                if not self._may_start(loop.time(), deadline):
                    break
                self.outcome.flows += 1
                session.cookie_jar.clear()
                try:
                    await self._flow(session, self._users[index])
                except _Failed as failed:
                    self.outcome.failed_requests += 1
                    self.outcome.failures.append((time.monotonic(), str(failed)))
                    if self._rate is None:
                        await asyncio.sleep(0.05)

    async def _request(self, session: aiohttp.ClientSession, method: str, path: str, expect: tuple[int, ...],
                       **kwargs: object) -> tuple[aiohttp.ClientResponse, str]:
        kind = "token" if path == "/token" else "other"
        self.in_flight[kind] += 1
        try:
            async with session.request(method, path, allow_redirects=False, **kwargs) as response:  # type: ignore[arg-type]
                body = await response.text()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _Failed(f"{method} {urlsplit(path).path}: {type(exc).__name__}") from None
        finally:
            self.in_flight[kind] -= 1
        if response.status not in expect:
            error = body[:100] if response.content_type == "application/json" else response.content_type
            raise _Failed(f"{method} {urlsplit(path).path}: {response.status} {' '.join(error.split())}")
        return response, body

    async def _flow(self, session: aiohttp.ClientSession, username: str) -> None:
        code, verifier = await self.obtain_code(session, username)
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier}
        _, body = await self._request(session, "POST", "/token", OK, data=form, headers=self._auth)
        self.outcome.consumed.append((code, verifier))
        tokens = _json(body)
        await self._request(session, "GET", "/userinfo", OK,
                            headers={"Authorization": f"Bearer {tokens['access_token']}"})
        self.outcome.tokens.append(tokens)
        self.outcome.successes.append(time.monotonic())

    async def obtain_code(self, session: aiohttp.ClientSession, username: str) -> tuple[str, str]:
        """authorize, login, consent: the code at the redirect URI and its PKCE verifier."""
        pkce = Pkce.new()
        params = authorization_params(client_id=self._client_id, redirect_uri=REDIRECT_URI,
                                      scope="openid profile offline_access", code_verifier=pkce.verifier,
                                      state=secrets.token_urlsafe(8), prompt="consent")
        response, _ = await self._request(session, "GET", "/authorize", REDIRECT, params=params)
        location = response.headers["Location"]
        for _ in range(3):  # the login page, then consent (prompt=consent asks every time)
            if urlsplit(location).scheme:
                break
            _, html = await self._request(session, "GET", location, OK)
            if urlsplit(location).path.endswith("/login"):
                form = {"csrf": csrf_token(html), "username": username, "password": PASSWORD}
            else:
                form = {"csrf": csrf_token(html), "decision": "allow"}
            response, _ = await self._request(session, "POST", location, REDIRECT, data=form)
            location = response.headers["Location"]
        callback = dict(parse_qsl(urlsplit(location).query))
        if "code" not in callback:  # e.g. error=temporarily_unavailable while a store is down
            raise _Failed(f"redirect to the client without a code: {callback.get('error')}")
        return callback["code"], pkce.verifier

    async def staged_codes(self, count: int, username: str) -> list[tuple[str, str]]:
        async with aiohttp.ClientSession(self._gateway, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            staged = []
            for _ in range(count):
                session.cookie_jar.clear()
                staged.append(await self.obtain_code(session, username))
            return staged

    async def exchange_all(self, staged: list[tuple[str, str]]) -> list[int]:
        async with aiohttp.ClientSession(self._gateway) as session:
            statuses = []
            for code, verifier in staged:
                form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                        "code_verifier": verifier}
                async with session.post("/token", data=form, headers=self._auth) as response:
                    await response.read()
                    statuses.append(response.status)
            return statuses


def _basic(client_id: str, secret: str) -> dict[str, str]:
    """RFC 6749 §2.3.1: client_secret_basic."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


class _Failed(Exception):
    pass


def _json(body: str) -> dict[str, str]:
    import json

    value: dict[str, str] = json.loads(body)
    return value


@dataclass
class Deployment:
    root: Path
    gateway: str
    env: dict[str, str]
    replicas: dict[str, list[tuple[int, Child]]]
    postgres: RestartablePostgres
    redis_group: SentinelGroup
    client_id: str = ""
    secret: str = ""
    users: list[str] = field(default_factory=list)

    def token_ports(self) -> list[int]:
        return [port for port, child in self.replicas["token"] if child.poll() is None]


def _start_replicas(root: Path, env: dict[str, str]) -> dict[str, list[tuple[int, Child]]]:
    replicas: dict[str, list[tuple[int, Child]]] = {}
    for service, count in REPLICAS.items():
        for index in range(count):
            port = spare_port()
            child = spawn(f"{service}-{index}", [sys.executable, "-m", f"services.{service}", "--host", "127.0.0.1",
                                                 "--port", str(port)],
                          log_path=root / f"{service}-{index}.log", env=env, cwd=REPO_ROOT)
            replicas.setdefault(service, []).append((port, child))
    for service, started in replicas.items():
        for port, child in started:
            wait_for_http(f"http://127.0.0.1:{port}/readyz", timeout=60)
            assert child.poll() is None, f"{service} on {port} exited"
    return replicas


@contextlib.contextmanager
def deployment() -> Iterator[Deployment]:
    if shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"):
        pytest.fail("nginx is not installed: apt-get install -y nginx")
    root = Path(tempfile.mkdtemp(prefix="latchkey-scale-"))
    children: list[Child] = []
    try:
        with private_postgres() as postgres, sentinel_group() as group:
            gateway_port = spare_port()
            gateway = f"http://127.0.0.1:{gateway_port}"
            env = {**os.environ, "DATABASE_URL": postgres.dsn, "REDIS_URL": group.url,
                   "LATCHKEY_REDIS_PREFIX": "latchkey-scale:", "LATCHKEY_DEV": "1",
                   "LATCHKEY_KEY_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
                   "LATCHKEY_ISSUER": gateway, "LATCHKEY_TOKEN_URL": gateway, "LATCHKEY_RESOURCE_URL": gateway,
                   "LATCHKEY_TRUSTED_PROXIES": "127.0.0.1/32", "LATCHKEY_ARGON2_TIME_COST": "1",
                   "LATCHKEY_ARGON2_MEMORY_KIB": "1024", "LATCHKEY_LOG_FORMAT": "text",
                   "LATCHKEY_READY_PROBE_SECONDS": "1", "LATCHKEY_REVOCATION_REPLICAS": "1",
                   "LATCHKEY_REVOCATION_RETRY_SECONDS": "1"}
            deployed = Deployment(root, gateway, env, {}, postgres, group)
            asyncio.run(_prepare(deployed))
            deployed.replicas = _start_replicas(root, env)
            children.extend(child for started in deployed.replicas.values() for _, child in started)
            upstreams = {service: [port for port, _ in started] for service, started in deployed.replicas.items()}
            children.append(start_nginx(root / "nginx", gateway_port, upstreams))
            yield deployed
    except BaseException:
        kept = Path(tempfile.gettempdir()) / "latchkey-scale-logs"
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(root, kept, ignore=shutil.ignore_patterns("*_temp", "proxy", "client_body", "fastcgi",
                                                                  "uwsgi", "scgi"))
        print(f"the services' and nginx's logs are kept in {kept}")
        raise
    finally:
        for child in reversed(children):
            child.stop()
        shutil.rmtree(root, ignore_errors=True)


async def _prepare(deployed: Deployment) -> None:
    conn = await asyncpg.connect(deployed.postgres.dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    settings = Settings.from_env(deployed.env)
    pool = await create_pool(settings)
    try:
        registered = await make_client(pool, redirect_uris=(REDIRECT_URI,), scope="openid profile offline_access")
        deployed.client_id, deployed.secret = registered.client_id, registered.secret or ""
        for index in range(CONCURRENCY + 1):  # the last one stages codes for the Redis fault
            user = await make_user(pool, settings, password=PASSWORD, username=f"scale_{index}")
            deployed.users.append(user.username)
    finally:
        await pool.close()


# --- what must hold after every fault -------------------------------------------------------

@dataclass
class Ledger:
    """Everything issued so far that must never work again."""

    consumed: list[tuple[str, str]] = field(default_factory=list)  # replayed exactly as first sent
    rotated: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)


async def _retire_some(deployed: Deployment, outcome: Outcome, ledger: Ledger) -> None:
    """Rotates a few refresh tokens and revokes a few access tokens of this phase (via the gateway)."""
    auth = _basic(deployed.client_id, deployed.secret)
    async with aiohttp.ClientSession(deployed.gateway) as session:
        for tokens in outcome.tokens[:ROTATED_PER_PHASE]:
            async with session.post("/token", headers=auth, data={"grant_type": "refresh_token",
                                                               "refresh_token": tokens["refresh_token"]}) as r:
                assert r.status == 200, await r.text()
            ledger.rotated.append(tokens["refresh_token"])
        for tokens in outcome.tokens[ROTATED_PER_PHASE:ROTATED_PER_PHASE + REVOKED_PER_PHASE]:
            async with session.post("/revoke", headers=auth, data={"token": tokens["access_token"],
                                                                "token_type_hint": "access_token"}) as r:
                assert r.status == 200, await r.text()
            ledger.revoked.append(tokens["access_token"])


async def _revoke(deployed: Deployment, access_tokens: list[str]) -> None:
    auth = _basic(deployed.client_id, deployed.secret)
    async with aiohttp.ClientSession(deployed.gateway) as session:
        for token in access_tokens:
            async with session.post("/revoke", headers=auth, data={"token": token}) as r:
                assert r.status == 200, await r.text()


async def _until_refused(deployed: Deployment, access_tokens: list[str], since: float) -> tuple[int, float]:
    """Polls /userinfo with each token until all are refused (401); returns how often one was
    accepted meanwhile and the seconds from ``since``. Bounded: promotion + one retry interval
    (LATCHKEY_REVOCATION_RETRY_SECONDS) + slack."""
    accepted, left = 0, list(access_tokens)
    async with aiohttp.ClientSession(deployed.gateway, timeout=aiohttp.ClientTimeout(total=10)) as session:
        while left:
            assert time.monotonic() - since < REVOKED_REFUSED_WITHIN, f"{len(left)} revoked tokens still not refused"
            for token in list(left):
                async with session.get("/userinfo", headers={"Authorization": f"Bearer {token}"}) as r:
                    await r.read()
                accepted += r.status == 200
                if r.status == 401:
                    left.remove(token)
            await asyncio.sleep(0.05)
    return accepted, time.monotonic() - since


async def _check_invariants(deployed: Deployment, ledger: Ledger) -> dict[str, int]:
    """Replays every consumed code through every live token replica; tries every rotated refresh
    token and every revoked access token. Returns how many of each still worked."""
    auth = _basic(deployed.client_id, deployed.secret)
    timeout = aiohttp.ClientTimeout(total=10)
    limit = asyncio.Semaphore(6)
    bodies: list[str] = []
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def status(method: str, url: str, **kwargs: object) -> int:
            async with limit:
                for _ in range(BUSY_RETRIES):  # a 503 "busy" (load shedding) redeems nothing: ask again
                    async with session.request(method, url, **kwargs) as r:  # type: ignore[arg-type]
                        body = await r.text()
                    if r.status != 503:
                        break
                    await asyncio.sleep(0.2)
                if r.status not in (200, 400, 401):
                    bodies.append(f"{r.status} {body[:200]}")
                return r.status

        replays = [status("POST", f"http://127.0.0.1:{port}/token", headers=auth,
                          data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                                "code_verifier": verifier})
                   for code, verifier in ledger.consumed for port in deployed.token_ports()]
        codes = await asyncio.gather(*replays)
        per_code = len(deployed.token_ports())
        twice = sum(1 for i in range(len(ledger.consumed)) if 200 in codes[i * per_code:(i + 1) * per_code])
        refreshed = await asyncio.gather(*(status("POST", f"{deployed.gateway}/token", headers=auth,
                                                  data={"grant_type": "refresh_token", "refresh_token": token})
                                           for token in ledger.rotated))
        accepted = await asyncio.gather(*(status("GET", f"{deployed.gateway}/userinfo",
                                                 headers={"Authorization": f"Bearer {token}"})
                                          for token in ledger.revoked))
    unexpected = [s for s in codes if s not in (400, 200)]
    assert not unexpected, f"replayed codes answered {sorted(set(unexpected))}, e.g. {bodies[:2]}"
    return {"codes redeemed twice": twice, "rotated refresh tokens that worked": refreshed.count(200),
            "revoked access tokens accepted": accepted.count(200), "replays": len(codes)}


def _report(name: str, fault_at: float, outcome: Outcome, checks: dict[str, int], extra: str = "") -> float:
    after = [t for t, _ in outcome.failures if t >= fault_at - 0.5]
    recovery = max(after) - fault_at if after else 0.0
    print(f"\n[{name}] flows: {outcome.flows} started ({FAULT_LOAD_FLOWS_PER_SECOND:.0f}/s), "
          f"{len(outcome.successes)} complete; "
          f"failed requests: {outcome.failed_requests}; recovery time: {recovery:.2f} s{extra}")
    for when, what in outcome.failures[:8]:
        print(f"    failed at fault{when - fault_at:+.2f} s: {what}")
    print(f"codes redeemed twice: {checks['codes redeemed twice']}")
    print(f"    replays: {checks['replays']} (every consumed code x every live token replica); "
          f"rotated refresh tokens that worked: {checks['rotated refresh tokens that worked']}; "
          f"revoked access tokens accepted: {checks['revoked access tokens accepted']}")
    assert checks["codes redeemed twice"] == 0
    assert checks["rotated refresh tokens that worked"] == 0
    assert checks["revoked access tokens accepted"] == 0
    assert not outcome.ended, f"{name}: the load stopped before it was told to: {outcome.ended}"
    assert outcome.successes and max(outcome.successes) > fault_at, f"{name}: no complete flow after the fault"
    assert recovery < RECOVERY_LIMIT_SECONDS
    return recovery


def _phase_end(load: Load, deployed: Deployment, ledger: Ledger) -> tuple[Outcome, dict[str, int]]:
    outcome = load.stop()
    ledger.consumed.extend(outcome.consumed)
    asyncio.run(_retire_some(deployed, outcome, ledger))
    return outcome, asyncio.run(_check_invariants(deployed, ledger))


def _wait_for_success_after(load: Load, moment: float) -> None:
    """Until a flow started by the load completes after ``moment``, within the recovery limit;
    the load must still be running meanwhile, or the test would wait for nothing."""
    deadline = time.monotonic() + RECOVERY_LIMIT_SECONDS
    while not any(t > moment for t in load.outcome.successes[-20:]):
        assert load.running(), f"the load stopped before a flow completed after the fault: {load.outcome.ended}"
        assert time.monotonic() < deadline, (
            f"no complete flow within {RECOVERY_LIMIT_SECONDS:.0f} s of the fault "
            f"({load.outcome.flows} started, last failure: {load.outcome.failures[-1:]})")
        time.sleep(0.05)


def test_replicated_topology_survives_faults_without_redeeming_a_code_twice() -> None:
    started = time.monotonic()
    with deployment() as deployed:
        replicas = ", ".join(f"{n} {service}" for service, n in REPLICAS.items())
        print(f"\ndeployed in {time.monotonic() - started:.1f} s: nginx {deployed.gateway}, "
              f"{replicas}, PostgreSQL :{deployed.postgres.port}, "
              f"Redis primary :{deployed.redis_group.primary_port} replica :{deployed.redis_group.replica_port} "
              f"sentinels {deployed.redis_group.sentinel_ports}")
        ledger = Ledger()
        load = Load(deployed.gateway, deployed.client_id, deployed.secret, deployed.users)

        # 0. Baseline: flows per second through the gateway, as fast as they go.
        load.start(max_flows=BASELINE_FLOWS)
        time.sleep(PHASE_SECONDS)
        outcome, checks = _phase_end(load, deployed, ledger)
        done = outcome.successes
        rate = (len(done) - 1) / (max(done) - min(done)) if len(done) > 1 else 0.0
        print(f"[baseline] {len(outcome.successes)} complete flows, {rate:.1f} flows/s through the gateway "
              f"(authorize, login, consent, token, userinfo; concurrency {CONCURRENCY}); "
              f"failed requests: {outcome.failed_requests}")
        print(f"codes redeemed twice: {checks['codes redeemed twice']}")
        assert outcome.failed_requests == 0 and checks["codes redeemed twice"] == 0

        # 1. SIGKILL of a token replica under load.
        load.start(rate=FAULT_LOAD_FLOWS_PER_SECOND)
        time.sleep(PHASE_SECONDS)
        port, victim = deployed.replicas["token"][0]
        in_flight = load.in_flight["token"]
        fault_at = time.monotonic()
        os.kill(victim.pid, signal.SIGKILL)
        victim.stop()  # reaps
        _wait_for_success_after(load, fault_at)
        time.sleep(PHASE_SECONDS)
        outcome, checks = _phase_end(load, deployed, ledger)
        _report("token replica SIGKILL", fault_at, outcome, checks,
                f"; token requests in flight at the kill: {in_flight}")
        assert outcome.failed_requests <= in_flight, "requests that were not in flight at the kill failed"

        # 2. Redis failover that loses writes (item 3, issue 14 revocation). STAGED codes are issued
        # and replicated; the replica is cut off; they are exchanged and a few access tokens revoked
        # (on the primary only); the primary is SIGKILLed at once and the sentinels promote the
        # replica, which holds the codes as unused and lacks the revocations.
        group = deployed.redis_group
        staged = asyncio.run(load.staged_codes(STAGED_CODES, deployed.users[-1]))
        with group.client(group.primary_port) as primary:
            assert primary.execute_command("WAIT", 1, 2000) == 1  # the codes (and revocations) are on the replica
        load.start(rate=FAULT_LOAD_FLOWS_PER_SECOND)
        time.sleep(1.0)
        # Tokens of this phase: their codes were never replayed, whose detection would revoke
        # them again (RFC 6749 §4.1.2) and hide a lost revocation.
        unreplicated = [tokens["access_token"] for tokens in load.outcome.tokens[-STAGED_REVOCATIONS:]]
        group.cut_replication()
        exchanged = asyncio.run(load.exchange_all(staged))
        assert exchanged == [200] * len(staged), exchanged
        asyncio.run(_revoke(deployed, unreplicated))
        ledger.revoked.extend(unreplicated)
        missing = _revocations_missing_on(group, deployed.env["LATCHKEY_REDIS_PREFIX"], unreplicated)
        fault_at = time.monotonic()
        group.kill_primary()
        promoted = group.wait_promoted()
        back = _codes_back_on(group, deployed.env["LATCHKEY_REDIS_PREFIX"], [code for code, _ in staged])
        accepted, refused_after = asyncio.run(_until_refused(deployed, unreplicated, fault_at + promoted))
        _wait_for_success_after(load, fault_at + promoted)
        time.sleep(PHASE_SECONDS)
        ledger.consumed.extend(staged)
        outcome, checks = _phase_end(load, deployed, ledger)
        _report("Redis primary SIGKILL, replica promoted", fault_at, outcome, checks,
                f"; sentinel promoted the replica {promoted:.2f} s after the kill "
                f"(down-after-milliseconds {DOWN_AFTER_MS} + election and promotion)")
        print(f"    codes consumed on the primary after the replica was cut off: {len(staged)}; back as unused "
              f"on the promoted replica: {back}; tokens from replaying them through every token replica: 0")
        print(f"    access tokens revoked on the primary after the replica was cut off: {len(unreplicated)}; "
              f"missing on the replica at the kill: {missing}; /userinfo accepted one {accepted} times "
              f"(polled every 50 ms) until all were refused {refused_after:.2f} s after the promotion")
        assert back == len(staged), "the failover lost no consumption: the test did not create the replay window"
        assert missing == len(unreplicated) == STAGED_REVOCATIONS, "the failover lost no revocation"

        # 3. PostgreSQL stopped at once and started again.
        load.start(rate=FAULT_LOAD_FLOWS_PER_SECOND)
        time.sleep(PHASE_SECONDS)
        fault_at = time.monotonic()
        deployed.postgres.stop_immediate()
        time.sleep(1.0)
        deployed.postgres.start()
        _wait_for_success_after(load, fault_at)
        time.sleep(PHASE_SECONDS)
        outcome, checks = _phase_end(load, deployed, ledger)
        _report("PostgreSQL immediate stop + start", fault_at, outcome, checks)
        for service, started_replicas in deployed.replicas.items():
            for port, child in started_replicas:
                if child is not victim:
                    assert child.poll() is None, f"{service} on {port} exited: no replica may need a restart"
        print(f"scale test took {time.monotonic() - started:.1f} s")


def _revocations_missing_on(group: SentinelGroup, prefix: str, access_tokens: list[str]) -> int:
    """How many of these revocations the (cut off) replica lacks: what a failover would lose."""
    jtis = [jwt.decode(token, options={"verify_signature": False})["jti"] for token in access_tokens]
    with group.client(group.replica_port) as replica:
        return sum(not replica.exists(revoked_jti_key(prefix, jti)) for jti in jtis)


def _codes_back_on(group: SentinelGroup, prefix: str, codes: list[str]) -> int:
    """How many of ``codes`` the promoted replica holds as unused (the state a replay meets)."""
    if not codes:
        return 0
    with group.client(group.replica_port) as promoted:
        return int(sum(promoted.exists(f"{prefix}code:{sha256_hex(code)}") for code in codes))


