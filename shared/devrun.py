"""`make run`: the whole Latchkey stack on one machine, stopped by Ctrl-C.

Starts an embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL name servers to use,
migrates, seeds the demo user and client, starts the services that exist, prints where
everything is, then supervises: the first child to die takes the whole stack down.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from shared.devstack import banner
from shared.devstack.apps import APPS, App, existing_apps, start_apps
from shared.devstack.envfile import ENV_FILE, write_env_file
from shared.devstack.errors import DevStackError
from shared.devstack.kek import load_or_create_kek
from shared.devstack.ports import ensure_port_free
from shared.devstack.postgres import PG_PORT_ENV, start_postgres
from shared.devstack.redis_server import REDIS_PORT_ENV, start_redis
from shared.devstack.supervise import Supervisor, run_once

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
Rows = list[tuple[str, str]]


class Stopped(BaseException):
    """Ctrl-C, SIGTERM or SIGHUP: the normal way to end `make run`."""


def _on_signal(signum: int, _frame: object) -> NoReturn:
    for sig in STOP_SIGNALS:  # a second Ctrl-C must not cut the shutdown short
        signal.signal(sig, signal.SIG_IGN)
    raise Stopped(signal.Signals(signum).name)


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name) or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise DevStackError(f"{name} must be a port number (1-65535), got {raw!r}")
    return int(raw)


def _start_servers(sup: Supervisor, env: Mapping[str, str], devdata: Path) -> tuple[dict[str, str], Rows]:
    """DATABASE_URL and REDIS_URL for the children: the given ones, else embedded servers."""
    urls, rows = {}, []
    if url := env.get("DATABASE_URL"):
        rows.append(("PostgreSQL", f"{banner.redact(url)} (from DATABASE_URL)"))
    else:
        print("Starting the embedded PostgreSQL ...", flush=True)
        pg = start_postgres(devdata / "postgres", _port(env, PG_PORT_ENV, 15432))
        sup.add(pg.child)
        url = pg.dsn
        rows.append(("PostgreSQL", f"{url} (embedded PostgreSQL {pg.binaries.major}, log {pg.child.log_path})"))
    urls["DATABASE_URL"] = url
    if url := env.get("REDIS_URL"):
        rows.append(("Redis", f"{banner.redact(url)} (from REDIS_URL)"))
    else:
        print("Starting the embedded Redis ...", flush=True)
        redis = start_redis(devdata / "redis", _port(env, REDIS_PORT_ENV, 16379))
        sup.add(redis.child)
        url = redis.url
        rows.append(("Redis", f"{url} (embedded, log {redis.child.log_path})"))
    urls["REDIS_URL"] = url
    return urls, rows


DEV_ADMIN_TOKEN = "make-run"


def _child_env(env: Mapping[str, str], servers: Mapping[str, str], kek: str) -> dict[str, str]:
    child = {**env, **servers, "LATCHKEY_DEV": "1", "PYTHONUNBUFFERED": "1",
             "LATCHKEY_KEY_ENCRYPTION_KEY": kek}
    for app in APPS:  # public URLs follow overridden ports unless set explicitly
        port = _port(env, app.port_env, app.default_port)
        child[app.port_env] = str(port)
        if app.url_env:
            child[app.url_env] = env.get(app.url_env) or f"http://localhost:{port}"
    return child


def _latchkey(cli: Path, *args: str, env: Mapping[str, str]) -> Any:
    """Run one `latchkey ... --json` command and return its JSON document."""
    command = f"latchkey {' '.join(args)}"
    done = run_once([cli, *args, "--json"], env=env, cwd=REPO)
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise DevStackError(f"`{command}` failed: {why}")
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        raise DevStackError(f"`{command} --json` did not print a JSON document") from None


def _prepare_database(cli: Path, env: Mapping[str, str]) -> Mapping[str, Any]:
    print("Migrating and seeding the demo data ...", flush=True)
    _latchkey(cli, "migrate", env=env)
    demo = _latchkey(cli, "demo", "seed", env=env)
    if not _latchkey(cli, "keys", "list", env=env):
        _latchkey(cli, "keys", "rotate", env=env)
    # A fresh admin API token each run (the last run's is revoked first: it was printed, and a
    # name has one live token at a time).
    if any(t["name"] == DEV_ADMIN_TOKEN and t["revoked_at"] is None
           for t in _latchkey(cli, "admin-token", "list", env=env)):
        _latchkey(cli, "admin-token", "revoke", DEV_ADMIN_TOKEN, env=env)
    admin = _latchkey(cli, "admin-token", "create", "--name", DEV_ADMIN_TOKEN, env=env)
    return {**demo, "admin_token": admin["token"]} if isinstance(demo, dict) else {"admin_token": admin["token"]}


def run(sup: Supervisor, env: Mapping[str, str]) -> int:
    devdata = Path(env.get("LATCHKEY_DEVDATA") or REPO / ".devdata").resolve()
    apps = existing_apps(REPO)
    ports: dict[App, int] = {app: _port(env, app.port_env, app.default_port) for app in apps}
    for app in apps:  # before anything starts, so a busy port costs nothing
        ensure_port_free(ports[app], app.name, app.port_env)
    cli = Path(sys.executable).parent / "latchkey"
    if not cli.exists():
        raise DevStackError(f"{cli} is missing; run `make install`")
    devdata.mkdir(parents=True, exist_ok=True)
    servers, server_rows = _start_servers(sup, env, devdata)
    kek = env.get("LATCHKEY_KEY_ENCRYPTION_KEY") or load_or_create_kek(devdata / "kek")
    child_env = _child_env(env, servers, kek)
    demo = _prepare_database(cli, child_env)
    if apps:
        print(f"Starting {', '.join(app.name for app in apps)} ...", flush=True)
    # The demo app signs in as the demo client, whose secret is fresh each seeding.
    apps_env = {**child_env, "LATCHKEY_DEMO_CLIENT_ID": str(demo.get("client_id", "")),
                "LATCHKEY_DEMO_CLIENT_SECRET": str(demo.get("client_secret", ""))}
    start_apps(sup, apps, ports, cli, apps_env, REPO, devdata / "logs", START_TIMEOUT)
    urls = [(app.name, child_env[app.url_env] if app.url_env else f"http://127.0.0.1:{ports[app]}/admin/v1/")
            for app in apps]
    has_authorize = any(app.url_env == "LATCHKEY_ISSUER" for app in apps)
    discovery = f"{child_env['LATCHKEY_ISSUER']}/.well-known/openid-configuration" if has_authorize else None
    # The `latchkey` command needs the same environment: `make cli` reads it from this file.
    env_file = devdata / ENV_FILE
    write_env_file(env_file, child_env, supplied=env.keys())
    cli_row = ("CLI", f'make cli ARGS="keys list --json"  (or . {env_file})')
    try:
        print(banner.render(urls, discovery, demo, [*server_rows, cli_row], devdata / "logs"), flush=True)
        while (dead := sup.first_exited()) is None:
            time.sleep(0.5)
    finally:  # it describes a running stack only
        env_file.unlink(missing_ok=True)
    print(f"make run: {dead.name} exited unexpectedly (exit code {dead.poll()}); stopping everything. "
          f"Last lines of {dead.log_path}:\n{dead.log_tail()}", file=sys.stderr, flush=True)
    return 1


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="make run: %(message)s")
    for sig in STOP_SIGNALS:
        signal.signal(sig, _on_signal)
    sup = Supervisor()
    try:
        return run(sup, os.environ)
    except Stopped:
        print("\nStopping ...", flush=True)
        return 0
    except DevStackError as exc:
        print(f"make run: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        sup.stop_all({"postgres": 30.0}, last=("postgres", "redis"))
        if sup.children:
            print("Stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
