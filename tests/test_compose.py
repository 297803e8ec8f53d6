"""docker-compose.yml and deploy/Dockerfile: the structure `docker compose up` relies on.

Compose cannot run here, so the file is parsed (PyYAML resolves the anchors and merge keys as
Compose does) and its environment is interpolated and fed to the real Settings validation.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from shared.config import Settings
from shared.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APPS = {"authorize": 8001, "token": 8002, "resource": 8003}
LATCHKEY_ROLES = ("migrate", *APPS)
DOCKERFILE = (ROOT / "deploy" / "Dockerfile").read_text()
DOCKERIGNORE = (ROOT / "deploy" / "Dockerfile.dockerignore").read_text()
SECRETS = {"POSTGRES_PASSWORD": "pg-pass-word", "LATCHKEY_KEY_ENCRYPTION_KEY": "A" * 43}
_VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def interpolate(value: str, provided: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error} substitution."""
    def substitute(match: re.Match[str]) -> str:
        name, kind, extra = match.groups()
        if provided.get(name):
            return provided[name]
        if kind == "?":
            raise LookupError(f"{name}: {extra}")
        return extra if kind == "-" else ""

    return _VARIABLE.sub(substitute, value)


def service_env(name: str, provided: dict[str, str]) -> dict[str, str]:
    return {k: interpolate(str(v), provided) for k, v in SERVICES[name]["environment"].items()}


def test_every_service_is_present():
    assert set(SERVICES) == {"gateway", "postgres", "redis", "migrate", "admin", *APPS}
    assert SERVICES["postgres"]["image"] == "postgres:16"
    assert SERVICES["redis"]["image"] == "redis:7"


@pytest.mark.parametrize(("name", "probe"), [
    ("postgres", "pg_isready"), ("redis", "redis-cli"),
    *[(app, f"http://127.0.0.1:{port}/healthz") for app, port in APPS.items()],
])
def test_long_running_services_have_a_health_check(name, probe):
    check = SERVICES[name]["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL")
    assert probe in " ".join(check["test"])
    assert check["retries"] >= 3 and check["interval"]


def test_migrate_is_a_one_shot_step_after_postgres_is_healthy():
    migrate = SERVICES["migrate"]
    assert migrate["command"][0] == "migrate"
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" not in migrate and "ports" not in migrate


@pytest.mark.parametrize("name", APPS)
def test_each_app_serves_its_role_unpublished_after_migration(name):
    # The gateway is the only published port (tests/test_gateway.py): the apps scale behind it.
    service = SERVICES[name]
    assert service["command"] == ["serve", name]
    assert "ports" not in service
    conditions = {dep: spec["condition"] for dep, spec in service["depends_on"].items()}
    assert conditions["migrate"] == "service_completed_successfully"
    assert conditions["postgres"] == conditions["redis"] == "service_healthy"


def test_one_image_built_from_the_dockerfile_runs_every_latchkey_role():
    for name in LATCHKEY_ROLES:
        build = SERVICES[name]["build"]
        assert (ROOT / build["context"] / build["dockerfile"]).resolve() == ROOT / "deploy" / "Dockerfile"
        assert SERVICES[name]["image"] == SERVICES["migrate"]["image"]
        assert SERVICES[name]["read_only"] is True


@pytest.mark.parametrize("name", LATCHKEY_ROLES)
def test_environment_is_a_valid_production_configuration(name):
    env = service_env(name, SECRETS)
    assert "LATCHKEY_DEV" not in env
    settings = Settings.from_env(env)  # the real start-up validation, without dev mode
    assert urlsplit(settings.database_url).hostname == "postgres"
    assert urlsplit(settings.redis_url).hostname == "redis"
    # One public origin, the gateway's (its published port by default).
    assert settings.issuer == settings.token_url == settings.resource_url == "https://localhost:8443"
    assert settings.host == "0.0.0.0"
    assert [str(net) for net in settings.trusted_proxies] == ["172.30.14.0/24"]


@pytest.mark.parametrize(("name", "missing"), [
    *[(name, "POSTGRES_PASSWORD") for name in LATCHKEY_ROLES], ("token", "LATCHKEY_KEY_ENCRYPTION_KEY"),
])
def test_secrets_are_required_not_defaulted(name, missing):
    with pytest.raises(LookupError, match=missing):
        service_env(name, {k: v for k, v in SECRETS.items() if k != missing})


def test_postgres_password_is_required_too():
    with pytest.raises(LookupError, match="POSTGRES_PASSWORD"):
        interpolate(SERVICES["postgres"]["environment"]["POSTGRES_PASSWORD"], {})


def test_public_urls_follow_the_gateway_settings():
    public = {"LATCHKEY_PUBLIC_ORIGIN": "https://auth.example.com"}
    settings = Settings.from_env(service_env("token", {**SECRETS, **public}))
    assert settings.issuer == settings.token_url == settings.resource_url == "https://auth.example.com"


def test_dev_key_in_compose_is_refused():
    env = service_env("token", {**SECRETS,
                                "LATCHKEY_KEY_ENCRYPTION_KEY": "bGF0Y2hrZXktZGV2LW9ubHkta2V5LWRvLW5vdC11c2U="})
    with pytest.raises(ConfigError, match="^LATCHKEY_KEY_ENCRYPTION_KEY"):
        Settings.from_env(env)


def test_resource_fetches_keys_from_the_token_service_inside_the_network():
    env = service_env("resource", SECRETS)
    assert Settings.from_env(env).trusted_jwks_url == "http://token:8002/jwks"
    assert SERVICES["resource"]["depends_on"]["token"]["condition"] == "service_healthy"


# --- the Dockerfile ----------------------------------------------------------------------------

def _instructions(keyword: str) -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1].strip() for line in joined.splitlines()
            if line.strip().upper().startswith(keyword + " ")]


def test_dockerfile_builds_on_python_312_slim():
    assert all(base.split()[0] == "python:3.12-slim" for base in _instructions("FROM"))


def test_dockerfile_runs_as_a_non_root_user():
    users = _instructions("USER")
    assert users, "no USER: the container would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_dockerfile_installs_the_lock_then_the_package_without_resolving_again():
    runs = " ;; ".join(_instructions("RUN"))
    lock, package = runs.find("-r requirements/runtime.lock"), runs.find("--no-deps .")
    assert -1 < lock < package
    assert _instructions("ENTRYPOINT") == ['["latchkey"]']


def test_dockerfile_installs_the_runtime_lock_only():
    # run.lock and dev.lock carry the embedded servers, pytest, playwright, testcontainers;
    # tests/test_locks.py checks runtime.lock has none of them.
    runs = " ;; ".join(_instructions("RUN"))
    assert re.findall(r"-r\s+(\S+)", runs) == ["requirements/runtime.lock"]
    assert ".[" not in runs, "an extra would install the dev tools"


@pytest.mark.parametrize("source", ["requirements/runtime.lock", "pyproject.toml", "README.md", "shared", "services"])
def test_everything_the_dockerfile_copies_exists(source):
    copied = " ".join(_instructions("COPY"))
    assert source in copied
    assert (ROOT / source).exists()


def test_the_dockerignore_sends_exactly_what_the_dockerfile_copies():
    sent = {line[1:].rstrip("/") for line in DOCKERIGNORE.splitlines() if line.startswith("!")}
    copied = {source.rstrip("/") for args in _instructions("COPY") if not args.startswith("--from")
              for source in args.split()[:-1]}
    assert sent == copied


def test_the_admin_api_is_published_nowhere_and_is_health_checked():
    admin = SERVICES["admin"]
    assert "ports" not in admin
    assert "http://127.0.0.1:8004/healthz" in " ".join(admin["healthcheck"]["test"])
    assert Settings.from_env(service_env("admin", SECRETS)).admin_port == 8004


@pytest.mark.parametrize("service", ["migrate", "authorize", "resource", "admin"])
def test_only_the_token_service_gets_the_key_encryption_key(service):
    assert "LATCHKEY_KEY_ENCRYPTION_KEY" not in service_env(service, SECRETS)
    assert "LATCHKEY_KEY_ENCRYPTION_KEY" in service_env("token", SECRETS)


@pytest.mark.parametrize("name", [*APPS, "admin"])
def test_a_container_gets_its_drain_before_it_is_killed(name):
    """Docker's SIGKILL comes stop_grace_period after SIGTERM (10 s unless set): the shutdown
    delay and the grace for requests in flight must fit in it."""
    settings = Settings.from_env(service_env(name, SECRETS))
    period = SERVICES[name]["stop_grace_period"]
    assert period.endswith("s") and int(period[:-1]) >= settings.shutdown_delay + settings.shutdown_grace + 5
