"""The compose gateway (deploy/nginx/latchkey.conf): its routing table against the services' real
route tables, `nginx -t` on it, and `docker-compose config` on docker-compose.yml.

The routing is checked the way nginx decides it (exact `=` locations first, then the longest
prefix), for every path each service's ``routes()`` answers: a public route must reach the
service that serves it, and the probes, /metrics and the admin API must reach no service.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from shared.config import documented_variables
from tests.support.certificates import write_self_signed

ROOT = Path(__file__).resolve().parent.parent
NGINX_CONF = ROOT / "deploy" / "nginx" / "latchkey.conf"
CONFIG = NGINX_CONF.read_text()
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
README = (ROOT / "deploy" / "README.md").read_text()
SERVICES = ("authorize", "token", "resource")
# Never public: the probes, the metrics, the admin API (its own service, under /admin/v1/).
NOT_ROUTED = ("/healthz", "/readyz", "/metrics", "/admin/v1/clients", "/admin/v1/openapi.json")
DEFAULTS = {name: default for name, _, default in documented_variables()}
PORTS = {service: DEFAULTS[f"LATCHKEY_{service.upper()}_PORT"] for service in SERVICES}


# --- a small reader of the nginx config ---------------------------------------------------

@dataclass(frozen=True)
class Location:
    modifier: str  # "=", "^~" or "" (a plain prefix)
    path: str
    body: str

    @property
    def target(self) -> str | None:
        """The upstream variable it proxies to, "404", or None."""
        if proxy := re.search(r"proxy_pass\s+\$(\w+)\s*;", self.body):
            return proxy.group(1)
        if re.search(r"return\s+404\s*;", self.body):
            return "404"
        return None


def locations(config: str) -> list[Location]:
    found = []
    for match in re.finditer(r"location\s+(=|\^~|~\*?)?\s*(\S+)\s*\{([^{}]*)\}", config):
        modifier, path, body = match.groups()
        assert modifier not in ("~", "~*"), f"regex location {path}: the matcher below does not model it"
        found.append(Location(modifier or "", path, body))
    return found


LOCATIONS = locations(CONFIG)
UPSTREAMS: dict[str, str] = dict(re.findall(r"set\s+\$(\w+)\s+(http://[\w.-]+:\d+)\s*;", CONFIG))


def match(path: str) -> Location:
    """nginx's choice for a URI: an exact match, else the longest prefix (no regex locations)."""
    for location in LOCATIONS:
        if location.modifier == "=" and location.path == path:
            return location
    prefixes = [loc for loc in LOCATIONS if loc.modifier != "=" and path.startswith(loc.path)]
    assert prefixes, f"no location matches {path} (nginx would answer with its default)"
    return max(prefixes, key=lambda loc: len(loc.path))


def routed_to(path: str) -> str:
    """The compose service a path reaches, or "404"."""
    target = match(path).target
    assert target is not None, f"{path}: its location neither proxies nor answers 404"
    if target == "404":
        return "404"
    host = UPSTREAMS[target].removeprefix("http://").split(":")[0]
    return host


def service_paths(service: str) -> Iterator[str]:
    """Every path of a service's real route table, placeholders filled in."""
    module = importlib.import_module(f"services.{service}.routes")
    for route in module.routes():
        yield re.sub(r"\{[^}]+\}", "x1", route.path)


PUBLIC_ROUTES = [(service, path) for service in SERVICES for path in service_paths(service)
                 if path not in NOT_ROUTED]


# --- the routing table --------------------------------------------------------------------

@pytest.mark.parametrize(("service", "path"), PUBLIC_ROUTES, ids=[f"{p} -> {s}" for s, p in PUBLIC_ROUTES])
def test_every_public_route_reaches_the_service_that_serves_it(service, path):
    assert routed_to(path) == service


@pytest.mark.parametrize("path", NOT_ROUTED)
def test_probes_metrics_and_admin_are_not_routed(path):
    assert routed_to(path) == "404"
    # Explicitly, not by falling through to the catch-all: a new `/` route must not expose them.
    assert match(path).path != "/"


def test_the_admin_service_routes_are_not_routed_either():
    try:
        module = importlib.import_module("services.admin.routes")
    except ModuleNotFoundError:
        pytest.skip("services/admin is not in this tree yet; /admin/v1/ is checked above")
    for route in module.routes():
        assert routed_to(re.sub(r"\{[^}]+\}", "x1", route.path)) == "404", route.path


def test_every_service_route_table_includes_the_probes():
    # What NOT_ROUTED protects must be what the services really answer.
    for service in SERVICES:
        assert {"/healthz", "/readyz"} <= set(service_paths(service)), service


def test_unknown_paths_are_404_at_the_gateway():
    assert routed_to("/") == routed_to("/nothing") == routed_to("/tokenx") == "404"


def test_upstreams_are_the_compose_services_on_their_default_ports():
    assert {name: url for name, url in UPSTREAMS.items()} == {
        service: f"http://{service}:{port}" for service, port in PORTS.items()}
    for service in SERVICES:
        assert service in COMPOSE["services"]


def _readme_table() -> dict[str, str]:
    section = README.split("## The gateway's routing table", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\|\s*`([^`]+)`\s*\|\s*(\w+)\s*\|", section, re.MULTILINE)
    return dict(rows)


def test_the_readme_table_is_the_config():
    table = _readme_table()
    assert table, "deploy/README.md has no routing table"
    for pattern, service in table.items():
        sample = pattern.replace("*", "x1")
        assert routed_to(sample) == (service if service != "none" else "404"), pattern
    documented = {p.rstrip("*") for p in table}
    for location in LOCATIONS:
        if location.path != "/":
            assert location.path in documented, f"location {location.path} is missing from deploy/README.md"


def test_client_address_is_forwarded_and_resolver_is_dockers():
    assert re.search(r"proxy_set_header\s+X-Forwarded-For\s+\$proxy_add_x_forwarded_for\s*;", CONFIG)
    assert re.search(r"^resolver\s+127\.0\.0\.11\b", CONFIG, re.MULTILINE)


# --- compose around it --------------------------------------------------------------------

def test_the_gateway_is_the_only_published_port():
    published = {name for name, service in COMPOSE["services"].items() if service.get("ports")}
    assert published == {"gateway"}
    assert [p.rsplit(":", 1)[-1] for p in COMPOSE["services"]["gateway"]["ports"]] == ["8443"]
    assert re.search(r"listen\s+8443\s+ssl\b", CONFIG)


@pytest.mark.parametrize("service", SERVICES)
def test_services_can_be_scaled(service):
    spec = COMPOSE["services"][service]
    assert "container_name" not in spec and "ports" not in spec
    assert "edge" in spec["networks"]


def test_the_gateway_mounts_this_config_and_the_users_certificate():
    volumes = COMPOSE["services"]["gateway"]["volumes"]
    assert "./deploy/nginx/latchkey.conf:/etc/nginx/conf.d/default.conf:ro" in volumes
    assert any(v.endswith(":/etc/nginx/certs:ro") for v in volumes)
    assert "ssl_certificate     /etc/nginx/certs/tls.crt;" in CONFIG


def test_postgres_and_redis_are_on_the_internal_network_only():
    assert COMPOSE["networks"]["backend"]["internal"] is True
    for name in ("postgres", "redis"):
        assert COMPOSE["services"][name]["networks"] == ["backend"]
    assert COMPOSE["services"]["gateway"]["networks"] == ["edge"]
    # The admin API shares no network with the gateway: it cannot be routed even by mistake.
    assert "edge" not in COMPOSE["services"]["admin"]["networks"]


def test_trusted_proxies_name_the_gateways_network():
    subnet = COMPOSE["networks"]["edge"]["ipam"]["config"][0]["subnet"]
    for service in SERVICES:
        env = COMPOSE["services"][service]["environment"]
        assert env["LATCHKEY_TRUSTED_PROXIES"] == subnet


# --- the tools themselves -----------------------------------------------------------------

def _nginx_test_config(tmp_path: Path) -> Path:
    """The gateway config inside a minimal nginx.conf, certificates pointed at a test pair and
    every path nginx writes to inside tmp_path (upstream names are variables: nothing to resolve)."""
    cert, key = write_self_signed(tmp_path, "localhost")
    conf = CONFIG.replace("/etc/nginx/certs/tls.crt", str(cert)).replace("/etc/nginx/certs/tls.key", str(key))
    (tmp_path / "latchkey.conf").write_text(conf)
    temp = "\n".join(f"    {kind}_temp_path {tmp_path}/{kind};" for kind in
                     ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
                    f"http {{\n    access_log off;\n{temp}\n    include {tmp_path}/latchkey.conf;\n}}\n")
    return main


def test_nginx_accepts_the_config(tmp_path):
    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install -y nginx)")
    main = _nginx_test_config(tmp_path)
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(main), "-e", str(tmp_path / "error.log")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def _compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return None


def test_docker_compose_accepts_the_file(tmp_path):
    command = _compose_command()
    if command is None:
        pytest.skip("neither docker-compose nor the docker compose plugin is installed "
                    "(apt-get install -y docker-compose)")
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(tmp_path),
           "POSTGRES_PASSWORD": "pg-pass-word", "LATCHKEY_KEY_ENCRYPTION_KEY": "A" * 43}
    result = subprocess.run([*command, "-f", str(ROOT / "docker-compose.yml"), "config"],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    rendered = yaml.safe_load(result.stdout)
    assert set(rendered["services"]) == {"gateway", "postgres", "redis", "migrate", "admin", *SERVICES}
    token_env = rendered["services"]["token"]["environment"]
    assert token_env["LATCHKEY_ISSUER"] == token_env["LATCHKEY_TOKEN_URL"] == token_env["LATCHKEY_RESOURCE_URL"]
    # Without the secrets compose refuses, as the file promises.
    missing = subprocess.run([*command, "-f", str(ROOT / "docker-compose.yml"), "config"], capture_output=True,
                             text=True, env={k: v for k, v in env.items() if k != "POSTGRES_PASSWORD"}, cwd=ROOT,
                             timeout=60)
    assert missing.returncode != 0 and "POSTGRES_PASSWORD" in missing.stderr
