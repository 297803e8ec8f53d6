"""docs/ is the contract a clone carries: its links resolve and it names every CLI command and flag."""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

import pytest

from shared.cli.main import build_parser

REPO = Path(__file__).resolve().parents[1]
CONTRACT = (REPO / "docs" / "contract.md").read_text(encoding="utf-8")
PAGES = [REPO / "README.md", REPO / "deploy" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _commands(parser: argparse.ArgumentParser, prefix: str = "latchkey") -> list[tuple[str, list[str]]]:
    """(command, its --flags) for every leaf of the `latchkey` parser."""
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        flags = [o for a in parser._actions for o in a.option_strings if o.startswith("--") and o != "--help"]
        return [(prefix, flags)]
    return [leaf for name, sub in subparsers[0].choices.items() for leaf in _commands(sub, f"{prefix} {name}")]


@pytest.mark.parametrize("command,flags", _commands(build_parser()), ids=lambda v: v if isinstance(v, str) else "")
def test_the_contract_documents_every_command_and_flag(command: str, flags: list[str]) -> None:
    assert f"`{command}" in CONTRACT, f"docs/contract.md does not document `{command}`"
    missing = [flag for flag in flags if flag not in CONTRACT]
    assert not missing, f"docs/contract.md does not document {command} {' '.join(missing)}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(page: Path) -> None:
    for target in _LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0]
        assert (page.parent / path).exists(), f"{page.relative_to(REPO)} links to missing {target}"


def test_what_the_code_cites_exists() -> None:
    """Docstrings cite docs/*.md; a clone must have each one (nothing cites a file outside the tree)."""
    tracked = subprocess.run(["git", "ls-files", "*.py", "Makefile"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    cited = {m for f in tracked if (REPO / f).exists()
             for m in re.findall(r"\b(docs/[a-z_]+\.md|CONTRACT\.md)", (REPO / f).read_text(encoding="utf-8"))}
    assert cited, "nothing cites docs/ (the test would check nothing)"
    assert not [c for c in cited if not (REPO / c).exists()]
