"""The rules for client metadata (RFC 7591 §2, OIDC Registration §2, RP-Initiated Logout §3.1,
Back-Channel Logout §2.2): each check says what is wrong as an ``InvalidInput``."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from shared.config import is_loopback_url
from shared.management.errors import InvalidInput
from shared.redirect_uris import redirect_uri_problem

GRANT_TYPES = ("authorization_code", "refresh_token")
RESPONSE_TYPES = ("code",)
CONFIDENTIAL_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
AUTH_METHODS = (*CONFIDENTIAL_AUTH_METHODS, "none")  # none: a public client
MAX_URIS = 50


def client_name(name: str) -> str:
    if not name.strip() or len(name) > 200:
        raise InvalidInput("client name must be 1 to 200 characters")
    return name.strip()


def redirect_uris(uris: Iterable[str], what: str = "redirect URI") -> tuple[str, ...]:
    """Each URI registrable (exact match only: no wildcards); duplicates dropped, order kept."""
    unique = tuple(dict.fromkeys(uris))
    if len(unique) > MAX_URIS:
        raise InvalidInput(f"at most {MAX_URIS} {what}s")
    for uri in unique:
        if problem := redirect_uri_problem(uri):
            raise InvalidInput(problem.replace("redirect URI", what, 1))
    return unique


def web_url(uri: str | None, what: str) -> str | None:
    """An absolute https URL (http only for loopback hosts) without a fragment; "" clears it."""
    if not uri:
        return None
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri or any(c.isspace() for c in uri) or len(uri) > 2000:
        raise InvalidInput(f"{what} {uri!r} must be an absolute URL without a fragment or white space")
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and is_loopback_url(uri))):
        raise InvalidInput(f"{what} {uri!r} must be an https URL (plain http only for loopback hosts)")
    return uri


def cors_origins(origins: Iterable[str]) -> tuple[str, ...]:
    """Each an origin exactly as a browser sends it (RFC 6454 §6.2): scheme://host[:port], no path."""
    checked = []
    for origin in dict.fromkeys(origins):
        parts = urlsplit(origin)
        if (parts.scheme not in ("https", "http") or not parts.hostname or parts.path or parts.query
                or parts.fragment or "@" in parts.netloc or origin != origin.lower().rstrip("/") or "*" in origin):
            raise InvalidInput(f"CORS origin {origin!r} must be a lowercase origin such as https://app.example "
                               "(scheme, host and optional port; no path, no wildcard)")
        if parts.scheme == "http" and not is_loopback_url(origin):
            raise InvalidInput(f"CORS origin {origin!r} must use https (plain http only for loopback hosts)")
        checked.append(origin)
    if len(checked) > MAX_URIS:
        raise InvalidInput(f"at most {MAX_URIS} CORS origins")
    return tuple(checked)


def grant_types(values: Iterable[str] | None) -> frozenset[str]:
    """None: both. A list must hold authorization_code: it is the only grant that gives a client
    its first tokens, and RFC 7591 §2.1 pairs it with the redirect URIs every client has. An empty
    list or refresh_token alone would register a client that can never get a token."""
    if values is None:
        return frozenset(GRANT_TYPES)
    chosen = frozenset(values)
    if unknown := sorted(chosen - set(GRANT_TYPES)):
        raise InvalidInput(f"unsupported grant type {unknown[0]!r}; supported: {' '.join(GRANT_TYPES)}")
    if "authorization_code" not in chosen:
        raise InvalidInput("grant types must include authorization_code (refresh_token is the optional one)")
    return chosen


def response_types(values: Iterable[str] | None) -> None:
    """RFC 7591 §2: optional, default ["code"], which is the only flow served (discovery's
    response_types_supported): a client may state it, not ask for another."""
    if values is not None and (not values or set(values) != set(RESPONSE_TYPES)):
        raise InvalidInput('response_types must be ["code"], the only response type supported '
                           "(RFC 7591 §2.1 pairs it with the authorization_code grant)")


def id_token_alg(alg: str | None, key_ring_algs: tuple[str, ...]) -> str | None:
    if alg is not None and alg not in key_ring_algs:
        raise InvalidInput(f"ID-token algorithm {alg} has no signing key; the key ring holds "
                           f"{', '.join(key_ring_algs)} (LATCHKEY_SIGNING_ALG, LATCHKEY_ID_TOKEN_SIGNING_ALG)")
    return alg
