"""Resource-service benchmark: `python -m tests.bench.bench_resource` (part of `make bench`).

The floor, measured in the same run: a bare aiohttp handler verifying an RS256 JWT with a
cached key. Issue 5 asks the protected API (GET /api/whoami) for at least 90% of it; issue 9
asks /userinfo, which also needs the user's current claims, for at least 85% with a p99 within
3x the floor's. Every server runs as a separate process on uvloop (the resource service exactly
as `latchkey serve resource`: denylist off, denylist on, and denylist on with every token
verified in full), and wrk drives each in turn with 2 threads and 64 connections. wrk sends one
token throughout, so the default service checks its signature once and then finds it
remembered, as for a client reusing its token; the floor checks it every time, so /userinfo
is also held to the target with LATCHKEY_VERIFIED_TOKEN_CACHE_SIZE=0, the floor's own work.
Other load on the machine drifts, so each target is measured right next to a floor
measurement of its own (which one goes first alternates by round), in interleaved rounds, and
its ratios are taken against that floor; the medians over rounds are reported. /api/notes
(one PostgreSQL query each) is measured once, for the record. The JWKS the resource service
trusts is served by this process; the PostgreSQL database (fresh, removed afterwards) and the
Redis key prefix are private to the run. Needs DATABASE_URL, REDIS_URL and
wrk (apt-get install wrk).

BENCH_SECONDS (default 10) sets each measurement's length, BENCH_ROUNDS (default 3) the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from statistics import median
from typing import Any

import jwt
from aiohttp import web

from shared.cli.serve import new_event_loop
from shared.config import Settings
from shared.crypto.signing_keys import generate_private_key, public_jwk
from shared.db import create_pool
from tests.bench.support import REPO_ROOT, free_port, process_cpu_seconds, serve, subprocess_server
from tests.conftest import settings_env
from tests.support.databases import fresh_database
from tests.support.factories import make_user
from tests.support.typed import present

TARGET_RATIO = 0.90
USERINFO_TARGET_RATIO, USERINFO_TARGET_P99 = 0.85, 3.0  # issue 9 §5: of the floor's req/s; x its p99
THREADS, CONNECTIONS = 2, 64
ISSUER, AUDIENCE = "http://localhost:8001", "http://localhost:8003"
WHOAMI, USERINFO, NOTES = "/api/whoami", "/userinfo", "/api/notes"
FLOOR = "floor: bare handler, RS256 verify, cached key"
# The resource service as measured: its settings beyond the run's own.
UNCACHED = "denylist on, token cache 0"  # LATCHKEY_VERIFIED_TOKEN_CACHE_SIZE=0
SERVERS = {
    "denylist off": {"LATCHKEY_CHECK_REVOCATION": "0"},
    "denylist on": {"LATCHKEY_CHECK_REVOCATION": "1"},
    UNCACHED: {"LATCHKEY_CHECK_REVOCATION": "1", "LATCHKEY_VERIFIED_TOKEN_CACHE_SIZE": "0"},
}


# --- the floor: the least a server verifying an RS256 access token can do -----------------

def floor_app(jwk: dict[str, Any], issuer: str, audience: str) -> web.Application:
    key = jwt.PyJWK(jwk).key  # decoded once, like the verifier's cache

    async def protected(request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=issuer)
        except jwt.PyJWTError:
            return web.json_response({"error": "invalid_token"}, status=401)
        return web.json_response({"sub": claims["sub"]})

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.add_routes([web.get("/protected", protected), web.get("/healthz", healthz)])
    return app


def run_floor(port: int) -> None:
    app = floor_app(json.loads(os.environ["BENCH_JWK"]), ISSUER, AUDIENCE)
    web.run_app(app, host="127.0.0.1", port=port, loop=new_event_loop(), print=None, access_log=None)


# --- pieces of the run ---------------------------------------------------------------------

@contextmanager
def jwks_server(jwk: dict[str, Any]) -> Iterator[str]:
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "public, max-age=3600")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks"
    finally:
        server.shutdown()


@dataclass(frozen=True)
class Measured:
    name: str
    rps: float
    non_2xx: int
    p99_ms: float
    cpu_ms: float | None = None  # server CPU per request over the run (docs/capacity.md uses it)


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(name: str, url: str, token: str, seconds: int, pid: int | None = None) -> Measured:
    """One wrk run; with the server's ``pid``, also its CPU per request (from /proc, robust to
    other load on the machine where req/s is not)."""
    args = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency",
            "-H", f"Authorization: Bearer {token}", url]
    cpu_before = process_cpu_seconds(pid) if pid else 0.0
    output = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    cpu_ms = None
    if pid and (total := re.search(r"(\d+) requests in", output)) and int(total.group(1)):
        cpu_ms = (process_cpu_seconds(pid) - cpu_before) * 1000 / int(total.group(1))
    rps = float(present(re.search(r"Requests/sec:\s+([\d.]+)", output)).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    p99 = present(re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE))
    return Measured(name, rps, int(errors.group(1)) if errors else 0, float(p99.group(1)) * _UNIT_MS[p99.group(2)],
                    cpu_ms)


def warm_up(url: str, token: str) -> None:
    wrk("warm-up", url, token, 2)  # connections, caches, the JWKS fetch


def report_line(name: str, rps: float, ratio: float, non_2xx: int = 0, p99_ms: float | None = None,
                cpu_ms: float | None = None) -> None:
    errors = f"  ({non_2xx} non-2xx!)" if non_2xx else ""
    p99 = f"  p99 {p99_ms:6.1f} ms" if p99_ms is not None else ""
    cpu = f"  server cpu {cpu_ms:.3f} ms/req" if cpu_ms is not None else ""
    print(f"{name:<52} {rps:9.0f} req/s  {ratio:6.1%} of floor{p99}{cpu}{errors}", flush=True)


def _median_cpu(measured: list[Measured]) -> float | None:
    values = [m.cpu_ms for m in measured if m.cpu_ms is not None]
    return median(values) if values else None


# --- the run -----------------------------------------------------------------------------

def _mint(private_key, kid: str, sub: str, scope: str) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": sub, "aud": AUDIENCE, "client_id": "bench", "scope": scope,
              "exp": now + 3600, "iat": now, "jti": secrets.token_urlsafe(16), "auth_time": now}
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": kid, "typ": "at+jwt"})


async def _bench_user(env: dict[str, str]) -> str:
    settings = Settings.from_env(env)
    pool = await create_pool(settings)
    try:
        return str((await make_user(pool, settings)).id)
    finally:
        await pool.close()


@contextmanager
def _servers(env: dict[str, str], jwk: dict[str, Any],
             logs: Path) -> Iterator[tuple[dict[str, str], dict[str, int]]]:
    """The floor and the resource services of SERVERS, all up at once: base URLs and pids."""
    with ExitStack() as stack:
        port = free_port()
        floor = stack.enter_context(subprocess_server(
            ["-m", "tests.bench.bench_resource", "--serve-floor", str(port)], {"BENCH_JWK": json.dumps(jwk)},
            f"http://127.0.0.1:{port}/healthz", logs / "floor.log"))
        bases, pids = {"floor": f"http://127.0.0.1:{port}"}, {"floor": floor.pid}
        for label, changes in SERVERS.items():
            server = stack.enter_context(serve("resource", {**env, **changes},
                                               log_path=logs / f"resource-{label.replace(' ', '-')}.log"))
            bases[label], pids[label] = str(server), server.pid
        yield bases, pids


@dataclass(frozen=True)
class Target:
    label: str  # which server: "denylist off" or "denylist on"
    path: str
    ratio: float  # least req/s, as a fraction of the floor's
    p99_factor: float | None = None  # largest p99, as a multiple of the floor's

    @property
    def name(self) -> str:
        return f"resource GET {self.path} ({self.label})"


TARGETS = (
    Target("denylist off", WHOAMI, TARGET_RATIO),
    Target("denylist on", WHOAMI, TARGET_RATIO),
    Target("denylist off", USERINFO, USERINFO_TARGET_RATIO, USERINFO_TARGET_P99),
    Target("denylist on", USERINFO, USERINFO_TARGET_RATIO, USERINFO_TARGET_P99),
    Target(UNCACHED, USERINFO, USERINFO_TARGET_RATIO, USERINFO_TARGET_P99),
)


def _target_rounds(bases: dict[str, str], pids: dict[str, int], token: str, seconds: int,
                   rounds: int) -> dict[Target, bool]:
    """Each target right next to a floor measurement of its own, ``rounds`` times (which goes
    first alternates, so drift cancels out); prints medians; which targets were met."""
    floors: list[Measured] = []
    pairs: dict[Target, list[tuple[Measured, Measured]]] = {target: [] for target in TARGETS}
    for number in range(1, rounds + 1):
        for target in TARGETS:
            measure_floor = functools.partial(wrk, FLOOR, bases["floor"] + "/protected", token, seconds,
                                              pids["floor"])
            measure_target = functools.partial(wrk, target.name, bases[target.label] + target.path, token, seconds,
                                               pids[target.label])
            if number % 2:
                floor, result = measure_floor(), measure_target()
            else:
                result, floor = measure_target(), measure_floor()
            floors.append(floor)
            pairs[target].append((result, floor))
        latest = {target: measured[-1] for target, measured in pairs.items()}
        print(f"  round {number}: " + "; ".join(
            f"{t.path} ({t.label}) {r.rps / f.rps:.0%} of {f.rps:.0f} req/s, p99 {r.p99_ms:.0f} vs {f.p99_ms:.0f} ms"
            for t, (r, f) in latest.items()), flush=True)
    report_line(FLOOR, median(f.rps for f in floors), 1.0, p99_ms=median(f.p99_ms for f in floors),
                cpu_ms=_median_cpu(floors))
    met = {}
    for target, measured in pairs.items():
        ratio = median(r.rps / f.rps for r, f in measured)
        p99_factor = median(r.p99_ms / f.p99_ms for r, f in measured)
        errors = sum(r.non_2xx + f.non_2xx for r, f in measured)
        report_line(target.name, median(r.rps for r, _ in measured), ratio, errors,
                    median(r.p99_ms for r, _ in measured), _median_cpu([r for r, _ in measured]))
        met[target] = (errors == 0 and ratio >= target.ratio
                       and (target.p99_factor is None or p99_factor <= target.p99_factor))
        if target.p99_factor is not None:
            print(f"{'':<52} p99 {p99_factor:.1f}x the floor's (median of rounds)", flush=True)
    return met


async def run(seconds: int, rounds: int) -> int:
    private_key = generate_private_key("RS256")
    jwk = public_jwk(private_key, "RS256")
    kek = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    logs = REPO_ROOT / ".devdata" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    async with fresh_database(os.environ["DATABASE_URL"]) as database_url:
        env = settings_env(database_url, os.environ["REDIS_URL"], f"lkbench:{secrets.token_hex(4)}:", kek)
        token = _mint(private_key, jwk["kid"], await _bench_user(env), "openid notes:read")
        with jwks_server(jwk) as jwks_url:
            env.update({"LATCHKEY_JWKS_URL": jwks_url, "LATCHKEY_ISSUER": ISSUER, "LATCHKEY_RESOURCE_URL": AUDIENCE})
            with _servers(env, jwk, logs) as (bases, pids):
                for base in bases.values():
                    warm_up(base + ("/protected" if base == bases["floor"] else WHOAMI), token)
                print(f"wrk -t{THREADS} -c{CONNECTIONS}, {seconds} s per measurement, medians of {rounds} "
                      f"interleaved rounds; server logs in {logs}", flush=True)
                met = _target_rounds(bases, pids, token, seconds, rounds)
                floor = wrk(FLOOR, bases["floor"] + "/protected", token, seconds).rps
                for label in ("denylist off", "denylist on"):  # for the record: one PostgreSQL query each
                    result = wrk(NOTES, bases[label] + NOTES, token, seconds, pids[label])
                    report_line(f"resource GET {NOTES} ({label})", result.rps, result.rps / floor, result.non_2xx,
                                result.p99_ms, result.cpu_ms)
    for target, ok in met.items():
        p99 = f" with p99 <= {target.p99_factor:.0f}x the floor's" if target.p99_factor else ""
        default = ", the default" if target.label == "denylist on" else ""
        print(f"target: GET {target.path} ({target.label}{default}) >= {target.ratio:.0%} of the floor{p99}: "
              f"{'met' if ok else 'NOT met'}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve-floor", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_floor:
        run_floor(args.serve_floor)
        return 0
    if shutil.which("wrk") is None:
        print("bench_resource: wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        print("bench_resource: set DATABASE_URL and REDIS_URL", file=sys.stderr)
        return 2
    return asyncio.run(run(int(os.environ.get("BENCH_SECONDS", "10")), int(os.environ.get("BENCH_ROUNDS", "3"))))


if __name__ == "__main__":
    sys.exit(main())
