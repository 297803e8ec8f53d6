"""Which redirect URIs may be registered (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1)."""

from __future__ import annotations

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
