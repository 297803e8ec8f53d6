"""What `make run` prints once everything answers: where to go and how to log in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

READY_LINE = "Latchkey is running. Press Ctrl-C to stop everything."
Rows = Sequence[tuple[str, str]]


def redact(url: str) -> str:
    """A server URL without its password, for URLs the user supplied."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def render(urls: Rows, discovery: str | None, demo: Mapping[str, Any], servers: Rows, logs: Path) -> str:
    sites = [*urls, *([("discovery", discovery)] if discovery else [])]
    if not sites:
        sites = [("services", "none yet (no services/*/__init__.py)")]
    login = [("demo user", f"{demo.get('username')}  password: {demo.get('password')}"),
             ("demo client", f"{demo.get('client_id')}  secret: {demo.get('client_secret')}")]
    if demo.get("redirect_uris"):
        login.append(("redirect URIs", " ".join(demo["redirect_uris"])))
    if demo.get("admin_token"):
        login.append(("admin token", f"{demo['admin_token']}  (Authorization: Bearer ...)"))
    backing = [*servers, ("logs", str(logs))]
    width = max(len(name) for name, _ in [*sites, *login, *backing]) + 2
    sections = ["\n".join(f"  {name:<{width}}{value}" for name, value in rows)
                for rows in (sites, login, backing)]
    return "\n" + READY_LINE + "\n\n" + "\n\n".join(sections) + "\n"
