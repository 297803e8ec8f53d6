"""What one request's access line and metrics need to know: its id, client and why it failed.

The observing middleware (shared.web.metrics) opens a ``RequestInfo`` per request; handlers add
the authenticated client (``note_client``), the error middleware the OAuth error code and a short
reason key (``note_error``); the access logger (shared.web.access_log) writes it out. Nothing in
it is ever a secret: identifiers and fixed keys only.
"""

from __future__ import annotations

import ipaddress
import random
import re
from collections.abc import Sequence

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

REQUEST_ID_HEADER = "X-Request-Id"
# A gateway's id is taken as is only when it is a sane token: bounded length, a charset that
# cannot break a log line or a header (no spaces, quotes, CR/LF).
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@+/=-]{1,128}")
_MAX_CLIENT_ID_CHARS = 100  # an unauthenticated client_id is caller-chosen text


class RequestInfo:
    __slots__ = ("request_id", "route", "client_id", "error", "reason", "reference")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.route: str | None = None  # the route template, once the metrics have worked it out
        self.client_id: str | None = None
        self.error: str | None = None  # the OAuth error code (RFC 6749 §5.2) or a page's error
        self.reason: str | None = None  # a short fixed key saying why, e.g. pkce_mismatch
        self.reference: str | None = None  # the short id an error page shows (error_reference)


REQUEST_INFO = web.RequestKey("request_info", RequestInfo)


def new_request_id() -> str:
    """64 random bits: a correlation key, not a secret (no syscall per request, unlike urandom)."""
    return f"{random.getrandbits(64):016x}"


# Crockford's base32 without I, L, O, U: read aloud or typed from a screenshot without confusion.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_CHARS = 10  # 50 bits: unique enough to find one line among years of logs


def error_reference(request: web.BaseRequest) -> str | None:
    """The short reference an error page shows and its access line carries (``ref=``).

    A request id may be a gateway's long token; a person reads this one to support. Random, not
    derived from anything: a correlation key, never a secret. The same for the whole request.
    """
    info = request_info(request)
    if info is None:
        return None
    if info.reference is None:
        bits = random.getrandbits(5 * REFERENCE_CHARS)
        info.reference = "".join(_REFERENCE_ALPHABET[(bits >> (5 * i)) & 31] for i in range(REFERENCE_CHARS))
    return info.reference


def _from_trusted_peer(remote: str | None, trusted_proxies: Sequence[Network]) -> bool:
    if not remote or not trusted_proxies:
        return False
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    return any(address in net for net in trusted_proxies)


def request_id_of(request: web.BaseRequest, trusted_proxies: Sequence[Network]) -> str:
    """The gateway's X-Request-Id when the peer is a trusted proxy and the id is sane, else a
    new one: an untrusted client must not be able to forge or flood the log's correlation key."""
    given = request.headers.get(REQUEST_ID_HEADER)
    if given is not None and _SANE_REQUEST_ID.fullmatch(given) and _from_trusted_peer(request.remote, trusted_proxies):
        return given
    return new_request_id()


def request_info(request: web.BaseRequest) -> RequestInfo | None:
    return request.get(REQUEST_INFO)


def note_client(request: web.BaseRequest, client_id: str | None) -> None:
    info = request.get(REQUEST_INFO)
    if info is not None and client_id:
        info.client_id = client_id[:_MAX_CLIENT_ID_CHARS]


def note_error(request: web.BaseRequest, error: str, reason: str | None = None) -> None:
    """Records the first (innermost) explanation: an outer handler does not overwrite it."""
    info = request.get(REQUEST_INFO)
    if info is not None and info.error is None:
        info.error, info.reason = error, reason


def reason_key(exc: BaseException) -> str:
    """A fixed key for an exception: its class name in snake_case (PkceMismatch: pkce_mismatch).
    Never its message, which may quote the request."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason:
        return reason
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()
