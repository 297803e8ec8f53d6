"""The pin files under requirements/ and the dependency closures they must equal.

Three tiers, each including the one before with `-r`: runtime.lock (what the services import;
the image installs only it), run.lock (+ the embedded servers `make run` starts) and dev.lock
(+ tests, benchmarks, browser tests, lint tools). A closure is computed from the metadata of the
installed distributions (the test venv has dev.lock installed), so it is exact, not guessed.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements"
TIERS = ("runtime", "run", "dev")
# What a venv brings (or pip pulls in to build): pip freeze leaves them out, so no lock pins them.
INSTALLER_TOOLS = frozenset({"pip", "setuptools", "wheel"})
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)\s*(?:#.*)?$")


@dataclass(frozen=True)
class Lock:
    path: Path
    includes: tuple[Path, ...]
    pins: dict[str, str]  # canonical name -> exact version, this file only


def read_lock(path: Path) -> Lock:
    """One lock file: `-r other.lock` lines, then `name==version` lines; anything else is refused
    so that a range or an unpinned name cannot slip in."""
    includes: list[Path] = []
    pins: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-r "):
            includes.append((path.parent / line[3:].strip()).resolve())
            continue
        found = _PIN.match(line)
        if found is None:
            raise ValueError(f"{path.name}:{number}: not an exact pin: {raw!r}")
        name = canonicalize_name(found[1])
        if name in pins:
            raise ValueError(f"{path.name}:{number}: {found[1]} pinned twice")
        pins[name] = found[2]
    return Lock(path, tuple(includes), pins)


def tier(name: str) -> Lock:
    return read_lock(REQUIREMENTS / f"{name}.lock")


def resolved(name: str) -> dict[str, str]:
    """Every pin pip installs for `pip install -r requirements/<name>.lock`."""
    lock, pins = tier(name), {}
    for included in lock.includes:
        pins.update(resolved(included.stem))
    pins.update(lock.pins)
    return pins


def pyproject_pins() -> dict[str, dict[str, str]]:
    """`dependencies` under the key "runtime", then every extra: canonical name -> version."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    groups = {"runtime": project["dependencies"], **project["optional-dependencies"]}
    out: dict[str, dict[str, str]] = {}
    for group, specs in groups.items():
        pins: dict[str, str] = {}
        for spec in specs:
            requirement = Requirement(spec)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", f"{spec}: pyproject pins exactly"
            pins[canonicalize_name(requirement.name)] = specifier.version
        out[group] = pins
    return out


def closure(roots: list[str]) -> set[str]:
    """Canonical names of roots and everything they require on this platform, from the
    installed distributions' metadata (extras followed only where a requirement asks for them)."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(canonicalize_name(root), frozenset[str]()) for root in roots]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for spec in metadata.distribution(name).requires or []:
            requirement = Requirement(spec)
            if requirement.marker is None or any(
                    requirement.marker.evaluate({"extra": extra}) for extra in extras or {""}):
                todo.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return {name for name, _ in seen}
