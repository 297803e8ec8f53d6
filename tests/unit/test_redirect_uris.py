"""Which redirect URIs a client may register (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1)."""

from __future__ import annotations

import pytest

from shared.redirect_uris import redirect_uri_matches, redirect_uri_problem


@pytest.mark.parametrize("uri", [
    "https://app.example/callback",
    "https://app.example:8443/cb?tenant=a",
    "HTTPS://app.example/callback",
    "http://localhost:8000/callback",
    "http://127.0.0.1:51004/cb",
    "http://[::1]:8000/cb",
    "com.example.app:/oauth2redirect",
], ids=["https", "https with port and query", "upper-case scheme", "loopback localhost",
        "loopback ipv4", "loopback ipv6", "private-use scheme (RFC 8252 §7.1)"])
def test_accepted(uri):
    assert redirect_uri_problem(uri) is None


@pytest.mark.parametrize(("uri", "why"), [
    ("http://app.example/callback", "must use https"),
    ("http://localhost.evil.example/cb", "must use https"),
    ("http://10.0.0.7/cb", "must use https"),
    ("https://app.example/callback#frag", "fragment"),
    ("https://app.example/callback#", "fragment"),
    ("/callback", "must be absolute"),
    ("callback", "must be absolute"),
    ("//app.example/callback", "must be absolute"),
    ("https:///callback", "no host"),
    ("https://app.example/call back", "white space"),
    ("https://app.example/" + "a" * 2000, "exceed 2000"),
    ("javascript:alert(1)", "unsupported scheme"),
    ("data:text/html,hi", "unsupported scheme"),
    ("file:///etc/passwd", "unsupported scheme"),
    ("myapp:/cb", "unsupported scheme"),
    ("http://[::1/cb", "not a valid URI"),
], ids=["http non-loopback", "localhost look-alike", "http private address", "fragment", "empty fragment",
        "relative path", "bare word", "scheme-relative", "https without host", "white space", "too long",
        "javascript", "data", "file", "custom scheme not reverse-domain", "broken ipv6 literal"])
def test_refused_with_a_reason(uri, why):
    problem = redirect_uri_problem(uri)
    assert problem is not None and why in problem
    assert "\n" not in problem


LOOPBACK = "http://127.0.0.1/cb"
LOOPBACK6 = "http://[::1]/cb"


@pytest.mark.parametrize(("sent", "registered"), [
    ("https://app.example/cb", "https://app.example/cb"),
    ("http://127.0.0.1:51234/cb", LOOPBACK),
    ("http://127.0.0.1/cb", LOOPBACK),
    ("http://127.0.0.1:1/cb", LOOPBACK),
    ("http://127.0.0.1:65535/cb", LOOPBACK),
    ("http://[::1]:51234/cb", LOOPBACK6),
    ("http://127.0.0.1:51234/cb", "http://127.0.0.1:8000/cb"),
    ("http://127.0.0.1:51234/cb?app=x", "http://127.0.0.1/cb?app=x"),
    ("http://127.0.0.1:51234", "http://127.0.0.1"),
], ids=["exact", "ipv4 any port", "ipv4 no port", "lowest port", "highest port", "ipv6 any port",
        "registered port is not binding", "query kept", "no path"])
def test_matches(sent, registered):
    assert redirect_uri_matches(sent, [registered])


@pytest.mark.parametrize(("sent", "registered"), [
    ("http://localhost:51234/cb", "http://localhost/cb"),
    ("http://localhost:51234/cb", "http://localhost:8000/cb"),
    ("http://127.0.0.1:51234/other", LOOPBACK),
    ("http://127.0.0.1:51234/cb/", LOOPBACK),
    ("http://127.0.0.1:51234/cb?x=1", LOOPBACK),
    ("http://127.0.0.1:51234/cb", "http://127.0.0.1/cb?app=x"),
    ("http://127.0.0.1:51234/cb#f", LOOPBACK),
    ("http://127.0.0.2:51234/cb", LOOPBACK),
    ("http://[::1]:51234/cb", LOOPBACK),
    ("http://127.0.0.1:51234/cb", LOOPBACK6),
    ("https://127.0.0.1:51234/cb", "https://127.0.0.1/cb"),
    ("HTTP://127.0.0.1:51234/cb", LOOPBACK),
    ("http://127.0.0.1:0/cb", LOOPBACK),
    ("http://127.0.0.1:65536/cb", LOOPBACK),
    ("http://127.0.0.1:/cb", LOOPBACK),
    ("http://127.0.0.1:80@evil.example/cb", LOOPBACK),
    ("http://user@127.0.0.1:80/cb", LOOPBACK),
    ("http://127.0.0.1.evil.example:80/cb", LOOPBACK),
    ("https://app.example:8443/cb", "https://app.example/cb"),
], ids=["localhost gets no latitude", "localhost other port", "other path", "trailing slash", "added query",
        "dropped query", "fragment", "other loopback address", "ipv6 for ipv4", "ipv4 for ipv6", "https",
        "upper-case scheme", "port 0", "port too big", "empty port", "userinfo trick", "userinfo",
        "look-alike host", "non-loopback port"])
def test_does_not_match(sent, registered):
    assert not redirect_uri_matches(sent, [registered])
