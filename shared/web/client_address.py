"""The client's address, for throttling and audit (RFC 7239 §7.4 on trusting forwarded headers).

Behind a gateway every request comes from the gateway; only when the peer is one of the
configured trusted proxies do we read X-Forwarded-For, walking it from the right and stopping at
the first address we do not trust. A client cannot spoof its way past a limit by sending the
header itself, because an untrusted peer's header is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, proxies: Sequence[Network]) -> bool:
    return address is not None and any(address in net for net in proxies)


def client_address(request: web.Request, trusted_proxies: Sequence[Network]) -> str:
    peer = request.remote or "unknown"
    if not trusted_proxies or not _trusted(_parse(peer), trusted_proxies):
        return peer
    hops = [h for header in request.headers.getall("X-Forwarded-For", []) for h in header.split(",")]
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            return peer  # a malformed chain: fall back to what we know
        if not _trusted(address, trusted_proxies):
            return str(address)
    return peer
