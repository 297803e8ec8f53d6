"""Login and consent decisions, prompt=none errors (core.decisions), redirects and grants."""

from urllib.parse import parse_qs, urlsplit

import pytest

from services.authorize.core.authorization_request import AuthorizationRequest
from services.authorize.core.decisions import (
    Authenticated,
    check_hinted_user,
    must_consent,
    must_log_in,
    silent_offline_access,
)
from services.authorize.core.grants import grant_for
from services.authorize.core.redirects import code_response, error_response
from services.authorize.core.transaction import Transaction
from shared.errors import AccessDenied, ConsentRequired, LoginRequired

NOW = 1_700_000_000
ALICE = Authenticated("u1", "alice", auth_time=NOW - 600)


def request(*, prompt=(), max_age=None, scope=("openid", "profile"), sent=True, hinted=None):
    return AuthorizationRequest(client_id="c1", redirect_uri="https://app.example/cb", redirect_uri_sent=sent,
                                scope=scope, state="s", nonce="n", code_challenge="c", code_challenge_method="S256",
                                prompt=frozenset(prompt), max_age=max_age, hinted_subject=hinted)


@pytest.mark.parametrize("req, user, expected", [
    pytest.param(request(), None, True, id="no session needs login"),
    pytest.param(request(), ALICE, False, id="a session is enough"),
    pytest.param(request(prompt=["login"]), ALICE, True, id="prompt=login forces login"),
    pytest.param(request(prompt=["select_account"]), ALICE, True, id="prompt=select_account forces login"),
    pytest.param(request(max_age=599), ALICE, True, id="max_age shorter than the session's age"),
    pytest.param(request(max_age=600), ALICE, False, id="max_age equal to the session's age"),
    pytest.param(request(max_age=0), Authenticated("u1", "a", NOW), True, id="max_age=0 is prompt=login"),
    pytest.param(request(hinted="u1"), ALICE, False, id="the id_token_hint names the signed-in user"),
    pytest.param(request(hinted="u2"), ALICE, True, id="the id_token_hint names another user"),
])
def test_must_log_in(req, user, expected):
    assert must_log_in(req, user, NOW) is expected


@pytest.mark.parametrize("user, max_age", [
    pytest.param(None, None, id="prompt=none without session"),
    pytest.param(ALICE, 60, id="prompt=none with a session older than max_age"),
])
def test_prompt_none_login_required(user, max_age):
    with pytest.raises(LoginRequired):
        must_log_in(request(prompt=["none"], max_age=max_age), user, NOW)


@pytest.mark.parametrize("req, granted, expected", [
    pytest.param(request(), frozenset(), True, id="nothing granted yet"),
    pytest.param(request(), frozenset({"openid", "profile", "email"}), False, id="fewer scopes than granted"),
    pytest.param(request(), frozenset({"openid"}), True, id="a new scope asks again"),
    pytest.param(request(prompt=["consent"]), frozenset({"openid", "profile"}), True, id="prompt=consent asks"),
    pytest.param(request(scope=("openid", "offline_access")), frozenset({"openid", "offline_access"}), False,
                 id="offline_access already approved skips (OIDC Core 11)"),
    pytest.param(request(scope=("openid", "offline_access")), frozenset({"openid", "profile"}), True,
                 id="offline_access not yet approved asks"),
    pytest.param(request(scope=("openid", "offline_access"), prompt=["consent"]),
                 frozenset({"openid", "offline_access"}), True, id="prompt=consent asks even for remembered offline"),
])
def test_must_consent(req, granted, expected):
    assert must_consent(req, granted) is expected


@pytest.mark.parametrize("prompt, granted, scope", [
    pytest.param(["none"], {"openid", "offline_access"}, ("openid", "offline_access"),
                 id="prompt=none keeps a remembered offline_access (OIDC Core 11)"),
    pytest.param(["none"], {"openid"}, ("openid",), id="prompt=none ignores an unapproved offline_access"),
    pytest.param([], {"openid"}, ("openid", "offline_access"), id="without prompt=none consent will be asked"),
])
def test_silent_offline_access(prompt, granted, scope):
    req = request(prompt=prompt, scope=("openid", "offline_access"))
    assert silent_offline_access(req, frozenset(granted)).scope == scope


def test_prompt_none_with_only_an_unapproved_offline_access_is_consent_required():
    with pytest.raises(ConsentRequired):
        silent_offline_access(request(prompt=["none"], scope=("offline_access",)), frozenset({"openid"}))


def test_prompt_none_consent_required():
    with pytest.raises(ConsentRequired):
        must_consent(request(prompt=["none"]), frozenset({"openid"}))


@pytest.mark.parametrize("sent, stored", [
    pytest.param(True, "https://app.example/cb", id="redirect_uri sent is stored as sent"),
    pytest.param(False, "", id="redirect_uri omitted is stored as empty (RFC 6749 4.1.3)"),
])
def test_grant_records_the_request(sent, stored):
    grant = grant_for(request(sent=sent), ALICE, "g1")
    assert grant.redirect_uri == stored
    assert (grant.user_id, grant.auth_time, grant.scope, grant.nonce, grant.grant_id) == (
        "u1", ALICE.auth_time, ("openid", "profile"), "n", "g1")
    assert (grant.code_challenge, grant.code_challenge_method) == ("c", "S256")


@pytest.mark.parametrize("base, expected_query", [
    pytest.param("https://app.example/cb", {"code": ["abc"], "state": ["s&t=1"], "iss": ["https://id.example"]},
                 id="plain redirect URI"),
    pytest.param("https://app.example/cb?tenant=7", {"tenant": ["7"], "code": ["abc"], "state": ["s&t=1"],
                                                     "iss": ["https://id.example"]},
                 id="the registered query is kept (RFC 6749 3.1.2)"),
])
def test_code_response(base, expected_query):
    url = code_response(base, code="abc", state="s&t=1", issuer="https://id.example")
    assert url.startswith(base.split("?")[0] + "?")
    assert parse_qs(urlsplit(url).query) == expected_query


def test_error_response_without_state():
    url = error_response("https://app.example/cb", AccessDenied("the user denied"), state=None,
                         issuer="https://id.example")
    assert parse_qs(urlsplit(url).query) == {"error": ["access_denied"], "error_description": ["the user denied"],
                                             "iss": ["https://id.example"]}


def test_transaction_round_trips_through_its_record():
    tx = Transaction(request=request(prompt=["login"]), client_name="App", csrf="c", browser="b",
                     user=ALICE).with_granted(frozenset({"profile", "openid"}))
    assert Transaction.from_record(tx.to_record()) == tx
    assert not tx.adds_consent and tx.with_granted(frozenset({"openid"})).adds_consent
    anonymous = Transaction(request=request(), client_name="App", csrf="c", browser="b")
    assert Transaction.from_record(anonymous.to_record()) == anonymous


def test_prompt_none_for_another_user_than_the_hint_names_is_login_required():
    with pytest.raises(LoginRequired, match="id_token_hint"):
        must_log_in(request(prompt=["none"], hinted="u2"), ALICE, NOW)


def test_after_a_login_only_the_hinted_user_passes():
    check_hinted_user(request(hinted="u1"), ALICE)
    check_hinted_user(request(), ALICE)
    with pytest.raises(LoginRequired, match="id_token_hint"):
        check_hinted_user(request(hinted="u2"), ALICE)
