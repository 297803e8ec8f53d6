"""Validation steps after the redirect URI is verified (core.authorization_request)."""

from urllib.parse import urlencode

import pytest

from services.authorize.core.authorization_request import Policy, validate_authorization_request
from services.authorize.core.client_redirect import VerifiedRedirect
from services.authorize.core.errors import RequestNotSupported, RequestUriNotSupported
from shared.errors import (
    InvalidRequest,
    InvalidScope,
    InvalidTarget,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from shared.models import Client
from shared.oauth.params import parse_urlencoded
from shared.pkce import s256_challenge

CB = "https://app.example/callback"
AUDIENCE = "https://api.example"
CHALLENGE = s256_challenge("v" * 43)
PKCE = {"code_challenge": CHALLENGE, "code_challenge_method": "S256"}
BASE = {"response_type": "code", "client_id": "c1", "scope": "openid profile", **PKCE}


def make_client(*, public=False, scopes="openid profile email offline_access", grants="authorization_code"):
    return Client(client_id="c1", name="App", secret_hash=None if public else "h", redirect_uris=(CB,),
                  allowed_scopes=frozenset(scopes.split()), grant_types=frozenset(grants.split()),
                  token_endpoint_auth_method="none" if public else "client_secret_basic", is_public=public)


def validate(overrides=None, *, raw_extra="", client=None, require_pkce=True):
    query = {k: v for k, v in {**BASE, **(overrides or {})}.items() if v is not None}
    params = parse_urlencoded(urlencode(query) + raw_extra, max_params=50)
    return validate_authorization_request(params, client or make_client(), VerifiedRedirect(CB, True),
                                          Policy(require_pkce=require_pkce, audience=AUDIENCE))


@pytest.mark.parametrize("overrides, raw_extra, error, description", [
    pytest.param({"response_type": None}, "", InvalidRequest, "response_type is required", id="missing response_type"),
    pytest.param({"response_type": "token"}, "", UnsupportedResponseType, "", id="implicit flow is unsupported"),
    pytest.param({"response_type": "code id_token"}, "", UnsupportedResponseType, "", id="hybrid flow is unsupported"),
    pytest.param({}, "&scope=email", InvalidRequest, "scope was sent more than once", id="repeated scope"),
    pytest.param({}, "&state=a&state=b", InvalidRequest, "state was sent more than once", id="repeated state"),
    pytest.param({}, "&response_type=code", InvalidRequest, "response_type", id="repeated response_type"),
    pytest.param({"request": "eyJ..."}, "", RequestNotSupported, "", id="request object"),
    pytest.param({"request_uri": "urn:x"}, "", RequestUriNotSupported, "", id="request_uri"),
    pytest.param({"response_mode": "fragment"}, "", InvalidRequest, "response_mode", id="fragment response mode"),
    pytest.param({"scope": None}, "", InvalidScope, "scope is required", id="missing scope"),
    pytest.param({"scope": "openid admin"}, "", InvalidScope, "admin", id="unknown scope"),
    pytest.param({"scope": "openid notes:read"}, "", InvalidScope, "notes:read", id="scope not allowed for client"),
    pytest.param({"scope": "openid \"x"}, "", InvalidScope, "characters", id="scope with a quote character"),
    pytest.param({"code_challenge_method": "plain"}, "", InvalidRequest, "S256", id="plain PKCE is refused"),
    pytest.param({"code_challenge_method": None}, "", InvalidRequest, "S256", id="method omitted means plain"),
    pytest.param({"code_challenge": None}, "", InvalidRequest, "without code_challenge", id="method without challenge"),
    pytest.param({"code_challenge": "short"}, "", InvalidRequest, "43-character", id="malformed challenge"),
    pytest.param({"code_challenge": None, "code_challenge_method": None}, "", InvalidRequest, "PKCE is required",
                 id="PKCE required by policy"),
    pytest.param({"prompt": "none login"}, "", InvalidRequest, "prompt=none", id="prompt none with login"),
    pytest.param({"prompt": "sometimes"}, "", InvalidRequest, "prompt may only", id="unknown prompt"),
    pytest.param({"max_age": "-1"}, "", InvalidRequest, "max_age", id="negative max_age"),
    pytest.param({"max_age": "\u0661"}, "", InvalidRequest, "max_age", id="non-ASCII digit max_age"),
    pytest.param({"resource": "https://other.example"}, "", InvalidTarget, "not served", id="foreign resource"),
    pytest.param({"resource": "/relative"}, "", InvalidTarget, "absolute", id="relative resource"),
    pytest.param({"resource": AUDIENCE + "#f"}, "", InvalidTarget, "fragment", id="resource with fragment"),
    pytest.param({}, f"&resource={AUDIENCE}&resource=https://b.example", InvalidTarget, "only one",
                 id="two different resources"),
])
def test_refused(overrides, raw_extra, error, description):
    with pytest.raises(error) as caught:
        validate(overrides, raw_extra=raw_extra)
    assert type(caught.value) is error
    assert description in caught.value.description


def test_client_without_code_grant_is_unauthorized():
    with pytest.raises(UnauthorizedClient):
        validate(client=make_client(grants="refresh_token"))


@pytest.mark.parametrize("client, require_pkce, refused", [
    pytest.param(make_client(public=True), False, True, id="public client without PKCE is refused, policy off"),
    pytest.param(make_client(), True, True, id="confidential client without PKCE is refused, policy on"),
    pytest.param(make_client(), False, False, id="confidential client without PKCE is allowed, policy off"),
])
def test_pkce_policy(client, require_pkce, refused):
    overrides = {"code_challenge": None, "code_challenge_method": None}
    if refused:
        with pytest.raises(InvalidRequest):
            validate(overrides, client=client, require_pkce=require_pkce)
    else:
        assert validate(overrides, client=client, require_pkce=require_pkce).code_challenge is None


def test_a_valid_request_keeps_everything_the_code_needs():
    request = validate({"state": "s<1>", "nonce": "n1", "prompt": "login consent", "max_age": "300",
                        "resource": AUDIENCE, "login_hint": "alice", "scope": "openid profile openid"},
                       raw_extra="&unknown=1&unknown=2")
    assert request.scope == ("openid", "profile")  # duplicates inside scope collapse
    assert (request.state, request.nonce, request.max_age, request.resource) == ("s<1>", "n1", 300, AUDIENCE)
    assert request.prompt == {"login", "consent"}
    assert (request.code_challenge, request.code_challenge_method) == (CHALLENGE, "S256")
    assert (request.redirect_uri, request.redirect_uri_sent, request.login_hint) == (CB, True, "alice")


@pytest.mark.parametrize("prompt, scope", [
    pytest.param("none", ("openid", "offline_access"), id="prompt=none: decided once consent is known"),
    pytest.param("consent", ("openid", "offline_access"), id="with consent offline_access stays"),
    pytest.param(None, ("openid", "offline_access"), id="without prompt offline_access stays (consent is forced)"),
])
def test_offline_access(prompt, scope):
    assert validate({"scope": "openid offline_access", "prompt": prompt}).scope == scope


def test_same_resource_twice_is_one_resource():
    assert validate(raw_extra=f"&resource={AUDIENCE}&resource={AUDIENCE}").resource == AUDIENCE


def test_overlong_login_hint_is_ignored():
    assert validate({"login_hint": "x" * 101}).login_hint is None
