"""Which redirect URIs may be registered (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from shared.config import is_loopback_url


def redirect_uri_problem(uri: str) -> str | None:
    """Why ``uri`` cannot be registered, or None when it can."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return f"redirect URI {uri!r} is not a valid URI"
    if "*" in uri:
        return (f"redirect URI {uri!r} contains a wildcard: redirect URIs are matched exactly "
                "(RFC 9700 §4.1.3), so register each one in full")
    if not parts.scheme:
        return f"redirect URI {uri!r} must be absolute"
    if "#" in uri:
        return f"redirect URI {uri!r} must not contain a fragment (RFC 6749 §3.1.2)"
    if any(c.isspace() for c in uri) or len(uri) > 2000:
        return f"redirect URI {uri!r} must not contain white space or exceed 2000 characters"
    if parts.scheme == "https":
        return None if parts.hostname else f"redirect URI {uri!r} has no host"
    if parts.scheme == "http":
        if is_loopback_url(uri):
            return None
        return f"redirect URI {uri!r} must use https (plain http only for loopback hosts)"
    # Native apps: private-use schemes in reverse-domain form (RFC 8252 §7.1).
    if "." in parts.scheme and parts.scheme not in ("javascript", "data", "file"):
        return None
    return f"redirect URI {uri!r} has an unsupported scheme {parts.scheme!r}"


# RFC 8252 §7.3: a loopback IP literal over http, with an optional port; the rest (path, query)
# kept as written. ``localhost`` is left out on purpose (§8.3: it may resolve elsewhere).
_LOOPBACK_IP = re.compile(r"(http://(?:127\.0\.0\.1|\[::1\]))(?::([0-9]{1,5}))?([/?][^#]*)?")


def _without_port(uri: str) -> str | None:
    """``uri`` with its port removed, when it is a loopback IP redirect URI; else None."""
    match = _LOOPBACK_IP.fullmatch(uri)
    if match is None or (match[2] is not None and not 0 < int(match[2]) <= 65535):
        return None
    return match[1] + (match[3] or "")


def redirect_uri_matches(sent: str, registered: Iterable[str]) -> bool:
    """Whether ``sent`` is one of the ``registered`` redirect URIs: string equality (no
    normalisation, RFC 9700 §4.1.3), except that a registered loopback IP URI
    (``http://127.0.0.1/...``, ``http://[::1]/...``) matches any port, the port being chosen by
    the native app when it starts listening (RFC 8252 §7.3). Path and query stay exact."""
    uris = tuple(registered)
    if sent in uris:
        return True
    loose = _without_port(sent)
    return loose is not None and any(_without_port(uri) == loose for uri in uris)
