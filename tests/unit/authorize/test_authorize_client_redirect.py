"""The never-redirect checks: client_id and redirect_uri (core.client_redirect)."""

import pytest

from services.authorize.core.client_redirect import (
    VerifiedRedirect,
    client_id_of,
    known_client,
    verified_redirect_uri,
)
from services.authorize.core.errors import CannotRedirect
from shared.models import Client
from shared.oauth.params import parse_urlencoded

CB = "https://app.example/callback"


def client(*uris: str) -> Client:
    return Client(client_id="c1", name="App", secret_hash="x", redirect_uris=uris or (CB,),
                  allowed_scopes=frozenset({"openid"}), grant_types=frozenset({"authorization_code"}),
                  token_endpoint_auth_method="client_secret_basic", is_public=False)


def params(query: str):
    return parse_urlencoded(query, max_params=50)


@pytest.mark.parametrize("query, registered, expected", [
    pytest.param(f"redirect_uri={CB}", (CB,), VerifiedRedirect(CB, True), id="exact match"),
    pytest.param("scope=profile", (CB,), VerifiedRedirect(CB, False), id="omitted with one registered"),
    pytest.param(f"redirect_uri={CB}", (CB, CB + "2"), VerifiedRedirect(CB, True), id="one of several"),
    pytest.param("redirect_uri=http://127.0.0.1:51234/cb", ("http://127.0.0.1/cb",),
                 VerifiedRedirect("http://127.0.0.1:51234/cb", True), id="loopback ip: the app's port (RFC 8252)"),
    pytest.param("redirect_uri=http://[::1]:51234/cb", ("http://[::1]/cb",),
                 VerifiedRedirect("http://[::1]:51234/cb", True), id="loopback ipv6: the app's port"),
])
def test_verified(query, registered, expected):
    assert verified_redirect_uri(params(query), client(*registered)) == expected


@pytest.mark.parametrize("query, registered", [
    pytest.param(f"redirect_uri={CB}/", (CB,), id="trailing slash is a different URI"),
    pytest.param(f"redirect_uri={CB}?x=1", (CB,), id="added query is a different URI"),
    pytest.param("redirect_uri=https://APP.example/callback", (CB,), id="no case normalisation"),
    pytest.param(f"redirect_uri={CB}/../callback", (CB,), id="no path normalisation"),
    pytest.param("redirect_uri=https://app.example/call", (CB,), id="a prefix is not a match"),
    pytest.param("redirect_uri=https://evil.example/cb", (CB,), id="another host"),
    pytest.param(f"redirect_uri={CB}&redirect_uri={CB}", (CB,), id="repeated, even when equal"),
    pytest.param("scope=profile", (CB, CB + "2"), id="omitted with several registered"),
    pytest.param("scope=openid%20profile", (CB,), id="omitted in an OpenID Connect request"),
    pytest.param("redirect_uri=http://localhost:51234/cb", ("http://localhost/cb",), id="localhost: no port latitude"),
    pytest.param("redirect_uri=http://127.0.0.1:51234/other", ("http://127.0.0.1/cb",), id="loopback: path exact"),
])
def test_never_redirects(query, registered):
    with pytest.raises(CannotRedirect):
        verified_redirect_uri(params(query), client(*registered))


@pytest.mark.parametrize("query", [
    pytest.param("", id="missing client_id"),
    pytest.param("client_id=a&client_id=b", id="repeated client_id"),
])
def test_client_id_problems(query):
    with pytest.raises(CannotRedirect):
        client_id_of(params(query))


def test_unknown_client_cannot_redirect():
    with pytest.raises(CannotRedirect, match="not registered"):
        known_client(None)
