"""The whole Authorization Code Flow under load: authorize, login, consent, token (issue 3 §8).

Starts the authorize and token services as `latchkey serve` subprocesses with the default
argon2id parameters (OWASP minimum), then drives complete flows from a separate process at
concurrency 16, each flow a fresh browser (no cookies) and a user who has not consented yet, so
every flow shows the login and consent pages and redeems its code with PKCE.

Reports flows/s, the p50 of every step, and, as the baseline measured in the same run, how many
argon2id verifications/s this machine does with the same parameters and worker threads: the
password hash dominates a flow, so flows/s over that ceiling says how much else costs.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import secrets
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp

from shared.config import Settings
from shared.crypto.passwords import Passwords
from tests.bench.support import bench_stack, serve, servers_from_env
from tests.support.factories import make_client
from tests.support.flows import Pkce, authorization_params, csrf_token

REDIRECT_URI = "https://bench.example/callback"
PASSWORD = "bench password 1234"
TARGET_FLOWS = 40.0
STEP_TARGET_MS = 5.0
STEPS = ("authorize", "login page", "login submit", "consent page", "consent submit", "token")


async def _create_users(pool, settings: Settings, count: int) -> list[str]:
    """Many users sharing one argon2id hash (same password, same cost to verify)."""
    hasher = Passwords(None, time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib,
                       parallelism=settings.argon2_parallelism)
    password_hash = hasher.hash_sync(PASSWORD)
    names = [f"flow_{secrets.token_hex(6)}" for _ in range(count)]
    await pool.executemany("INSERT INTO users (username, password_hash) VALUES ($1, $2)",
                           [(n, password_hash) for n in names])
    return names


async def _timed(timings: dict[str, list[float]], step: str, call) -> Any:
    started = time.perf_counter()
    response = await call
    await response.read()
    timings[step].append((time.perf_counter() - started) * 1000)
    return response


class Throttled(Exception):
    """The login answered 429: a correct password refused (issue 9 item 4 wants none)."""


async def _one_flow(session: aiohttp.ClientSession, job: dict[str, Any], username: str,
                    timings: dict[str, list[float]]) -> None:
    pkce = Pkce.new()
    params = authorization_params(client_id=job["client_id"], redirect_uri=REDIRECT_URI, scope="openid profile",
                                  code_verifier=pkce.verifier, state=secrets.token_urlsafe(8))
    authorize, token = job["authorize"], job["token"]
    r = await _timed(timings, "authorize", session.get(f"{authorize}/authorize", params=params, allow_redirects=False))
    login = authorize + r.headers["Location"]
    r = await _timed(timings, "login page", session.get(login, allow_redirects=False))
    form = {"csrf": csrf_token(await r.text()), "username": username, "password": PASSWORD}
    r = await _timed(timings, "login submit", session.post(login, data=form, allow_redirects=False))
    if r.status == 429:
        raise Throttled
    consent = authorize + r.headers["Location"]
    r = await _timed(timings, "consent page", session.get(consent, allow_redirects=False))
    form = {"csrf": csrf_token(await r.text()), "decision": "allow"}
    r = await _timed(timings, "consent submit", session.post(consent, data=form, allow_redirects=False))
    code = dict(parse_qsl(urlsplit(r.headers["Location"]).query))["code"]
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "code_verifier": pkce.verifier}
    r = await _timed(timings, "token", session.post(f"{token}/token", data=body,
                                                    headers={"Authorization": job["auth"]}))
    if r.status != 200:
        raise RuntimeError(f"token endpoint answered {r.status}")


async def _drive(job: dict[str, Any]) -> dict[str, Any]:
    users = iter(job["users"])
    timings: dict[str, list[float]] = {s: [] for s in STEPS}
    done = errors = throttled = 0
    warmup_until = time.monotonic() + job["warmup"]
    stop_at = warmup_until + job["seconds"]
    counted_from = None

    async def worker() -> None:
        nonlocal done, errors, throttled, counted_from
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            while time.monotonic() < stop_at:
                session.cookie_jar.clear()  # a fresh browser every flow
                try:
                    await _one_flow(session, job, next(users), timings)
                except StopIteration:
                    return
                except Throttled:
                    throttled += 1
                    continue
                except Exception:
                    errors += 1
                    continue
                if time.monotonic() >= warmup_until:
                    counted_from = counted_from or warmup_until
                    done += 1

    await asyncio.gather(*(worker() for _ in range(job["concurrency"])))
    return {"flows": done, "seconds": job["seconds"], "errors": errors, "throttled": throttled,
            "p50": {s: statistics.median(v) for s, v in timings.items() if v}}


def _drive_in_process(job: dict[str, Any], results) -> None:
    results.put(asyncio.run(_drive(job)))


def argon2_ceiling(settings: Settings, seconds: float = 5.0) -> float:
    """argon2id verifications/s with the service's parameters and number of hash threads."""
    hasher = Passwords(None, time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib,
                       parallelism=settings.argon2_parallelism)
    password_hash = hasher.hash_sync(PASSWORD)
    stop_at = time.monotonic() + seconds

    def loop() -> int:
        count = 0
        while time.monotonic() < stop_at:
            hasher._verify_sync(password_hash, PASSWORD)
            count += 1
        return count

    with ThreadPoolExecutor(settings.hash_workers) as pool:
        total = sum(pool.map(lambda _: loop(), range(settings.hash_workers)))
    return total / seconds


async def bench(admin_url: str, redis_url: str, seconds: float, concurrency: int) -> tuple[dict[str, Any], float]:
    async with bench_stack(admin_url, redis_url) as stack:
        client = await make_client(stack.pool, redirect_uris=(REDIRECT_URI,), name="Bench Flow App")
        users = await _create_users(stack.pool, stack.settings, int(TARGET_FLOWS * 4 * (seconds + 5)))
        logs = Path(os.environ.get("BENCH_LOG_DIR", "/tmp"))
        with serve("token", stack.env, log_path=logs / "bench-flow-token.log") as token, \
                serve("authorize", stack.env, log_path=logs / "bench-flow-authorize.log") as authorize:
            ctx = multiprocessing.get_context("spawn")
            results = ctx.Queue()
            job = {"authorize": authorize.url, "token": token.url, "client_id": client.client_id,
                   "auth": aiohttp.encode_basic_auth(client.client_id, client.secret or ""), "users": users,
                   "concurrency": concurrency, "seconds": seconds, "warmup": 2.0}
            driver = ctx.Process(target=_drive_in_process, args=(job, results))
            driver.start()
            outcome = await asyncio.to_thread(results.get, True, seconds + 120)
            driver.join(10)
        ceiling = await asyncio.to_thread(argon2_ceiling, stack.settings)
        return outcome, ceiling


def main() -> int:
    if (servers := servers_from_env("bench_flow")) is None:
        return 2
    admin_url, redis_url = servers
    seconds = float(os.environ.get("BENCH_SECONDS", "10"))
    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "16"))
    print(f"full flow benchmark (authorize, login, consent, token): concurrency {concurrency}, {seconds:.0f} s")
    outcome, ceiling = asyncio.run(bench(admin_url, redis_url, seconds, concurrency))
    flows = outcome["flows"] / outcome["seconds"]
    print(f"  flows/s                       {flows:8.1f}   (errors {outcome['errors']})")
    print(f"  logins refused with 429       {outcome['throttled']:8d}   (correct passwords, one address)")
    print(f"  baseline: argon2id verify/s   {ceiling:8.1f}   (same parameters and threads, no server)")
    print(f"  ratio flows / argon2 ceiling  {flows / ceiling:8.2f}")
    for step, p50 in outcome["p50"].items():
        print(f"  p50 {step:<26}{p50:8.1f} ms")
    slow = [s for s, v in outcome["p50"].items() if s not in ("login submit", "token") and v >= STEP_TARGET_MS]
    print(f"target >= {TARGET_FLOWS:.0f} flows/s: {'met' if flows >= TARGET_FLOWS else 'NOT met'}; "
          f"non-hashing authorize steps < {STEP_TARGET_MS:.0f} ms p50: "
          f"{'met' if not slow else 'NOT met: ' + ', '.join(slow)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
