"""The demo app's configuration, from the environment `make run` prepares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.cli.demo import DEMO_CLIENT_ID, DEMO_SCOPES


class DemoConfigError(Exception):
    """A variable is malformed; the message names it."""


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name) or default
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise DemoConfigError(f"{name} must be an absolute http(s) URL, got {raw!r}")
    return raw.rstrip("/")


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name) or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise DemoConfigError(f"{name} must be a port number, got {raw!r}")
    return int(raw)


@dataclass(frozen=True, slots=True)
class DemoConfig:
    public_url: str
    issuer: str
    resource_url: str
    client_id: str
    client_secret: str  # empty: not configured; the home page says how to fix it
    host: str = "127.0.0.1"
    port: int = 8000
    scope: str = " ".join(DEMO_SCOPES)
    session_ttl: int = 8 * 3600
    login_ttl: int = 10 * 60  # how long a started sign-in may take
    max_sessions: int = 10_000
    http_timeout: float = 10.0
    clock_leeway: int = 30

    @classmethod
    def from_env(cls, env: Mapping[str, str], port: int | None = None) -> DemoConfig:
        return cls(
            public_url=_url(env, "LATCHKEY_DEMO_URL", "http://localhost:8000"),
            issuer=_url(env, "LATCHKEY_ISSUER", "http://localhost:8001"),
            resource_url=_url(env, "LATCHKEY_RESOURCE_URL", "http://localhost:8003"),
            client_id=env.get("LATCHKEY_DEMO_CLIENT_ID") or DEMO_CLIENT_ID,
            client_secret=env.get("LATCHKEY_DEMO_CLIENT_SECRET", ""),
            host=env.get("LATCHKEY_DEMO_HOST") or "127.0.0.1",
            port=port or _port(env, "LATCHKEY_DEMO_PORT", 8000),
        )

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/callback"

    @property
    def post_logout_redirect_uri(self) -> str:
        """Where Latchkey's end_session_endpoint sends the browser back (registered by the seed)."""
        return f"{self.public_url}/signed-out"

    @property
    def backchannel_logout_uri(self) -> str:
        """Where Latchkey posts logout tokens (registered by the seed)."""
        return f"{self.public_url}/backchannel-logout"

    @property
    def notes_url(self) -> str:
        return f"{self.resource_url}/api/notes"

    @property
    def whoami_url(self) -> str:
        return f"{self.resource_url}/api/whoami"

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")
