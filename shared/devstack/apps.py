"""The services and the demo app that `make run` starts, each only once its package exists."""

from __future__ import annotations

import functools
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.devstack.ports import LOOPBACK
from shared.devstack.supervise import Supervisor, spawn, wait_ready

# No proxy for probes of our own loopback services, whatever http_proxy says.
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class App:
    name: str
    package: str  # a directory of the repository; the app starts only once it is a package
    port_env: str
    default_port: int
    url_env: str | None  # its public base URL, which must follow its port (None: it has none)
    needs_health: bool = True  # services answer GET /healthz with 200; the demo app need only answer

    def argv(self, cli: Path, port: int) -> list[str | Path]:
        if self.package.startswith("services/"):
            return [cli, "serve", self.package.removeprefix("services/"), "--port", str(port)]
        return [sys.executable, "-m", self.package.replace("/", "."), "--port", str(port)]


APPS = (  # in banner order: the demo app first, it is what a newcomer opens
    App("demo app", "examples/demo_client", "LATCHKEY_DEMO_PORT", 8000, "LATCHKEY_DEMO_URL", False),
    App("authorize", "services/authorize", "LATCHKEY_AUTHORIZE_PORT", 8001, "LATCHKEY_ISSUER"),
    App("token", "services/token", "LATCHKEY_TOKEN_PORT", 8002, "LATCHKEY_TOKEN_URL"),
    App("resource", "services/resource", "LATCHKEY_RESOURCE_PORT", 8003, "LATCHKEY_RESOURCE_URL"),
    # Loopback only (LATCHKEY_ADMIN_HOST), no public URL: only the operator on this machine calls it.
    App("admin API", "services/admin", "LATCHKEY_ADMIN_PORT", 8004, None),
)


def existing_apps(repo: Path) -> list[App]:
    return [app for app in APPS if (repo / app.package / "__init__.py").exists()]


def probe(url: str, want_200: bool) -> str | None:
    """None once url answers (with 200 if want_200), else why not."""
    try:
        with _http.open(url, timeout=2) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        return f"GET {url}: {getattr(exc, 'reason', exc)}"
    ok = status == 200 if want_200 else status < 500
    return None if ok else f"GET {url} answered {status}"


def start_apps(sup: Supervisor, apps: list[App], ports: Mapping[App, int], cli: Path,
               env: Mapping[str, str], repo: Path, logs: Path, timeout: float) -> None:
    """Start them all, then wait for each to answer on 127.0.0.1."""
    started = []
    for app in apps:
        log = logs / f"{Path(app.package).name}.log"
        started.append((app, sup.add(spawn(app.name, app.argv(cli, ports[app]), log_path=log,
                                           env=env, cwd=repo))))
    for app, child in started:
        url = f"http://{LOOPBACK}:{ports[app]}/healthz"
        wait_ready(child, functools.partial(probe, url, app.needs_health), app.name, timeout)
