"""The image's install, without Docker: a fresh venv gets requirements/runtime.lock, then the
project (non-editable, --no-deps) built from exactly the files deploy/Dockerfile copies. The
services must import and the CLI run from it, with no test or dev package present.

A real pip install (about a minute): marked slow, run by `make test-slow`, not `make test`.
Prints the site-packages size that deploy/README.md states.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from tests.support.locks import INSTALLER_TOOLS, ROOT, resolved
from tests.test_compose import _instructions
from tests.test_locks import DEV_ONLY

pytestmark = pytest.mark.slow
PIP_TIMEOUT = 600

# Run inside the fresh venv, away from the repository: what imports comes from site-packages.
PROBE = textwrap.dedent("""
    import importlib, importlib.metadata as md, json, pkgutil, sys
    import services, shared
    skipped = ("shared.devrun", "shared.devstack", "shared.web.tracing")  # tracing: the extra latchkey[tracing]
    imported = []
    for package in (services, shared):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.startswith(skipped) and not info.name.endswith(".__main__"):  # __main__ runs
                importlib.import_module(info.name)
                imported.append(info.name)
    from shared.devstack.redis_server import find_redis_server
    from shared.devstack.errors import DevStackError
    try:
        find_redis_server()
        without_wheel = None
    except DevStackError as error:
        without_wheel = str(error)
    print(json.dumps({
        "files": [services.__file__, shared.__file__],
        "imported": imported,
        "distributions": sorted(d.metadata["Name"] for d in md.distributions()),
        "without_wheel": without_wheel,
    }))
""")


def _run(argv: list[str | Path], **kwargs) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=PIP_TIMEOUT, **kwargs)
    assert done.returncode == 0, f"{argv}: {done.stdout}\n{done.stderr}"
    return done


def _docker_context(into: Path) -> None:
    """The files the Dockerfile's COPY lines take from the build context, and nothing else."""
    for args in _instructions("COPY"):
        if args.startswith("--from"):
            continue
        for source in args.split()[:-1]:
            target = into / source
            target.parent.mkdir(parents=True, exist_ok=True)
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(ROOT / source, target)


def _size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


@pytest.fixture(scope="module")
def runtime_venv(tmp_path_factory):
    base = tmp_path_factory.mktemp("runtime")
    context, venv = base / "context", base / "venv"
    _docker_context(context)
    _run([sys.executable, "-m", "venv", venv])
    python = venv / "bin" / "python"
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run([*pip, "-r", "requirements/runtime.lock"], cwd=context)
    _run([*pip, "--no-deps", "."], cwd=context)
    probe = json.loads(_run([python, "-c", PROBE], cwd=base, env={"PATH": str(venv / "bin")}).stdout)
    (site_packages,) = venv.glob("lib/python*/site-packages")
    return venv, probe, site_packages


def test_the_runtime_venv_holds_the_runtime_lock_and_the_project_only(runtime_venv):
    _, probe, _ = runtime_venv
    installed = {canonicalize_name(name) for name in probe["distributions"]}
    assert installed - INSTALLER_TOOLS == set(resolved("runtime")) | {"latchkey"}
    assert not installed & {canonicalize_name(name) for name in DEV_ONLY}


def test_every_runtime_module_imports_from_the_installed_project(runtime_venv):
    venv, probe, _ = runtime_venv
    assert all(file.startswith(str(venv)) for file in probe["files"]), "imported from the checkout, not the venv"
    for module in ("services.authorize.app", "services.token.app", "services.resource.app", "shared.cli.main"):
        assert module in probe["imported"]


def test_the_cli_runs(runtime_venv):
    venv, _, _ = runtime_venv
    done = _run([venv / "bin" / "latchkey", "--help"], env={"PATH": str(venv / "bin")})
    assert "serve" in done.stdout and "migrate" in done.stdout


def test_the_dev_servers_say_what_to_do_without_their_wheels(runtime_venv):
    _, probe, _ = runtime_venv
    assert probe["without_wheel"] and "make install" in probe["without_wheel"]


def test_site_packages_size(runtime_venv, capsys):
    _, _, site_packages = runtime_venv
    installer_files = ("_distutils_hack", "pkg_resources", "distutils-precedence.pth")
    tools = sum(_size_mb(p) for p in site_packages.iterdir()
                if canonicalize_name(p.name.split("-")[0]) in INSTALLER_TOOLS or p.name in installer_files)
    total = _size_mb(site_packages)
    with capsys.disabled():
        print(f"\nruntime site-packages: {total:.1f} MB ({total - tools:.1f} MB without pip/setuptools)")
    assert total - tools < 100, "the runtime grew past 100 MB: is a dev package back in runtime.lock?"
