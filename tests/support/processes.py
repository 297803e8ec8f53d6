"""Finding processes a test started, to prove none are left behind (Linux /proc)."""

from __future__ import annotations

import os
from pathlib import Path


def processes_under(path: Path) -> list[int]:
    """Live (non-zombie) processes whose working directory or command line lies under path."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            cwd = ""
        if str(path) in cmdline or cwd == str(path) or cwd.startswith(f"{path}/"):
            found.append(int(entry.name))
    return found
