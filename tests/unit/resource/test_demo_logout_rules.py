"""The demo client's sign-out rules: the RP-Initiated Logout request it sends (RP-Initiated
Logout 1.0 §2), the logout tokens it accepts (Back-Channel Logout 1.0 §2.4, §2.6), the jti
memory against replays, and which of its sessions a logout token ends (§2.7)."""

from urllib.parse import parse_qs, urlsplit

import pytest

from examples.demo_client.endpoints.home import who
from examples.demo_client.logout_token import (
    BACKCHANNEL_LOGOUT_EVENT,
    LogoutToken,
    LogoutTokenError,
    SeenTokens,
    check_claims,
    check_header,
)
from examples.demo_client.oidc import end_session_url
from examples.demo_client.sessions import DemoSession, SessionStore, TokenSet

ISSUER = "https://id.example"
NOW = 1_700_000_000
CLAIMS = {"iss": ISSUER, "aud": "app", "iat": NOW, "exp": NOW + 120, "jti": "j1", "sid": "s1", "sub": "u1",
          "events": {BACKCHANNEL_LOGOUT_EVENT: {}}}


def test_end_session_url_carries_hint_client_return_address_and_state():
    url = end_session_url(ISSUER + "/logout", id_token="a.b.c", client_id="app",
                          post_logout_redirect_uri="https://app/signed-out", state="st")
    assert url.startswith(ISSUER + "/logout?")
    assert parse_qs(urlsplit(url).query) == {"id_token_hint": ["a.b.c"], "client_id": ["app"],
                                             "post_logout_redirect_uri": ["https://app/signed-out"],
                                             "state": ["st"]}


def test_end_session_url_keeps_the_endpoints_own_query_and_omits_a_missing_hint():
    url = end_session_url(ISSUER + "/logout?tenant=a", id_token=None, client_id="app",
                          post_logout_redirect_uri="https://app/signed-out", state="st")
    query = parse_qs(urlsplit(url).query)
    assert query["tenant"] == ["a"] and "id_token_hint" not in query


def test_a_good_logout_token_names_the_session_and_the_user():
    token = check_claims(CLAIMS, issuer=ISSUER, client_id="app", now=NOW, leeway=30)
    assert token == LogoutToken(iss=ISSUER, sid="s1", sub="u1", jti="j1", exp=NOW + 120)


@pytest.mark.parametrize("change", [
    pytest.param({"sub": None}, id="sid only"),
    pytest.param({"sid": None}, id="sub only"),
    pytest.param({"aud": ["other", "app"]}, id="aud list naming us"),
    pytest.param({"exp": NOW - 29}, id="expired within the leeway"),
])
def test_logout_tokens_the_spec_allows(change):
    claims = {k: v for k, v in {**CLAIMS, **change}.items() if v is not None}
    check_claims(claims, issuer=ISSUER, client_id="app", now=NOW, leeway=30)


@pytest.mark.parametrize("change, message", [
    pytest.param({"iss": "https://evil.example"}, "iss", id="another issuer"),
    pytest.param({"iss": None}, "iss", id="no iss"),
    pytest.param({"aud": "other-app"}, "aud", id="for another client"),
    pytest.param({"aud": None}, "aud", id="no aud"),
    pytest.param({"iat": None}, "iat", id="no iat"),
    pytest.param({"iat": NOW + 31}, "iat", id="iat in the future"),
    pytest.param({"iat": "now"}, "iat", id="iat not a number"),
    pytest.param({"exp": None}, "exp", id="no exp"),
    pytest.param({"exp": NOW - 31}, "expired", id="expired"),
    pytest.param({"exp": True}, "exp", id="exp a boolean"),
    pytest.param({"jti": None}, "jti", id="no jti"),
    pytest.param({"jti": ""}, "jti", id="empty jti"),
    pytest.param({"sid": None, "sub": None}, "neither sub nor sid", id="neither sid nor sub"),
    pytest.param({"sid": "", "sub": None}, "neither sub nor sid", id="empty sid"),
    pytest.param({"events": None}, "events", id="no events"),
    pytest.param({"events": {"http://schemas.openid.net/event/other": {}}}, "events", id="another event"),
    pytest.param({"events": {BACKCHANNEL_LOGOUT_EVENT: "yes"}}, "events", id="event not an object"),
    pytest.param({"events": [BACKCHANNEL_LOGOUT_EVENT]}, "events", id="events not an object"),
    pytest.param({"nonce": "n"}, "nonce", id="carries a nonce (an ID token)"),
])
def test_logout_tokens_refused(change, message):
    claims = {k: v for k, v in {**CLAIMS, **change}.items() if v is not None}
    with pytest.raises(LogoutTokenError, match=message):
        check_claims(claims, issuer=ISSUER, client_id="app", now=NOW, leeway=30)


@pytest.mark.parametrize("header", [
    {"alg": "RS256", "kid": "k1"}, {"alg": "RS256", "kid": "k1", "typ": "logout+jwt"},
    {"alg": "RS256", "kid": "k1", "typ": "application/logout+jwt"},
])
def test_headers_accepted(header):
    assert check_header(header) == "k1"


@pytest.mark.parametrize("header, message", [
    pytest.param({"alg": "RS256", "kid": "k1", "typ": "JWT"}, "typ", id="typ JWT (an ID token)"),
    pytest.param({"alg": "RS256", "kid": "k1", "typ": "at+jwt"}, "typ", id="an access token"),
    pytest.param({"alg": "RS256", "kid": "k1", "typ": None}, "typ", id="typ null"),
    pytest.param({"alg": "RS256"}, "kid", id="no kid"),
    pytest.param({"alg": "RS256", "kid": "k1", "jku": "https://evil.example/jwks"}, "key", id="jku"),
    pytest.param({"alg": "RS256", "kid": "k1", "jwk": {}}, "key", id="embedded jwk"),
    pytest.param({"alg": "RS256", "kid": "k1", "crit": ["exp"]}, "critical", id="crit"),
])
def test_headers_refused(header, message):
    with pytest.raises(LogoutTokenError, match=message):
        check_header(header)


def test_a_jti_is_accepted_once_until_its_token_expires():
    clock = [float(NOW)]
    seen = SeenTokens(clock=lambda: clock[0])
    token = LogoutToken(iss=ISSUER, sid="s1", sub=None, jti="j1", exp=NOW + 60)
    assert seen.first_use(token, leeway=30) is True
    assert seen.first_use(token, leeway=30) is False
    assert seen.first_use(LogoutToken(iss="https://other.example", sid="s1", sub=None, jti="j1", exp=NOW + 60),
                          leeway=30) is True  # jti is unique per issuer
    clock[0] = NOW + 91  # past exp + leeway: the token itself is refused as expired from now on
    assert seen.first_use(token, leeway=30) is True


def test_the_jti_memory_is_bounded():
    seen = SeenTokens(max_entries=2, clock=lambda: float(NOW))
    for jti in ("a", "b", "c"):
        assert seen.first_use(LogoutToken(iss=ISSUER, sid="s", sub=None, jti=jti, exp=NOW + 60), leeway=0)
    assert len(seen._seen) == 2


def _signed_in(store: SessionStore, sid: str, sub: str) -> tuple[str, DemoSession]:
    session_id, session = store.create()
    session.tokens = TokenSet(access_token="at", refresh_token="rt", id_token="it",
                              id_claims={"sub": sub, "sid": sid}, expires_at=0, scope="openid")
    session.profile = {"sub": sub, "name": "Ada"}
    return session_id, session


def test_a_logout_token_with_sid_ends_that_session_only():
    store = SessionStore(ttl=60, max_sessions=10)
    _, here = _signed_in(store, "s1", "u1")
    _, elsewhere = _signed_in(store, "s2", "u1")
    assert store.end_signed_in(sid="s1", sub="u1", flash="ended") == 1
    assert here.tokens is None and here.profile is None and here.flash == "ended"
    assert elsewhere.tokens is not None


def test_a_logout_token_with_sub_only_ends_every_session_of_that_user():
    store = SessionStore(ttl=60, max_sessions=10)
    sessions = [_signed_in(store, sid, "u1")[1] for sid in ("s1", "s2")]
    _, someone_else = _signed_in(store, "s3", "u2")
    assert store.end_signed_in(sid=None, sub="u1", flash="ended") == 2
    assert all(s.tokens is None for s in sessions) and someone_else.tokens is not None


def test_a_sid_of_another_user_ends_nothing():
    store = SessionStore(ttl=60, max_sessions=10)
    _, session = _signed_in(store, "s1", "u1")
    assert store.end_signed_in(sid="s1", sub="u2", flash="ended") == 0
    assert session.tokens is not None


def test_the_page_still_names_the_user_once_userinfo_refuses_the_token():
    profile = {"sub": "u1", "name": "Ada Lovelace"}
    assert who(profile, {"sub": "u1"})["name"] == "Ada Lovelace"
    assert who(profile, {"sub": "u2"}) == {"sub": "u2"}  # a profile of someone else is never shown
    assert who(None, {"sub": "u1"}) == {"sub": "u1"}
