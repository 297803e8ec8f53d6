"""Which address throttling and audit see, with and without a trusted gateway."""

import ipaddress

import pytest
from aiohttp.test_utils import make_mocked_request

from shared.web.client_address import client_address

GATEWAY = [ipaddress.ip_network("10.0.0.0/8")]


def request_from(peer: str, forwarded: str | None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = make_mocked_request("POST", "/login", headers=headers)
    return request.clone(remote=peer)


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "expected"), [
    pytest.param("203.0.113.9", None, [], "203.0.113.9", id="no gateway configured: the peer"),
    pytest.param("203.0.113.9", "198.51.100.1", [], "203.0.113.9", id="header ignored without trusted proxies"),
    pytest.param("203.0.113.9", "198.51.100.1", GATEWAY, "203.0.113.9", id="untrusted peer cannot spoof the header"),
    pytest.param("10.1.2.3", "198.51.100.1", GATEWAY, "198.51.100.1", id="trusted gateway: the forwarded client"),
    pytest.param("10.1.2.3", "6.6.6.6, 198.51.100.1, 10.9.9.9", GATEWAY, "198.51.100.1",
                 id="rightmost untrusted hop wins over a client-supplied prefix"),
    pytest.param("10.1.2.3", "not-an-ip", GATEWAY, "10.1.2.3", id="malformed chain falls back to the peer"),
    pytest.param("10.1.2.3", None, GATEWAY, "10.1.2.3", id="trusted peer without header: the peer"),
])
def test_client_address(peer, forwarded, trusted, expected):
    assert client_address(request_from(peer, forwarded), trusted) == expected
