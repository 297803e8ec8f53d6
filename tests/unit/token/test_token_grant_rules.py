"""The named steps of the two grants (RFC 6749 §4.1.3, §6; RFC 7636 §4.6; RFC 9700 §4.14.2)
and the grant-type dispatch (§5.2)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.token.core.code_grant import (
    PkceMismatch,
    check_client_owns_code,
    check_pkce,
    check_redirect_uri,
    response_scope,
    wants_refresh_token,
)
from services.token.core.context import TokenRequest
from services.token.core.grants import GRANT_HANDLERS, GrantType, grant_type_of
from services.token.core.introspection import refresh_token_is_live
from services.token.core.refresh_grant import (
    RefreshReuse,
    check_exists,
    check_not_expired,
    check_not_reused,
    check_not_revoked,
    check_resource,
)
from shared.errors import InvalidGrant, InvalidRequest, InvalidTarget, UnauthorizedClient, UnsupportedGrantType
from shared.models import AuthorizationGrant, Client, RefreshToken
from shared.pkce import s256_challenge

VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
NOW = datetime(2030, 1, 1, tzinfo=UTC)
CLIENT = Client(client_id="lk_app", name="App", secret_hash="x", redirect_uris=("https://app.example/cb",
                                                                                "https://app.example/other"),
                allowed_scopes=frozenset({"openid", "offline_access"}),
                grant_types=frozenset({"authorization_code", "refresh_token"}),
                token_endpoint_auth_method="client_secret_basic", is_public=False)
GRANT = AuthorizationGrant(client_id="lk_app", redirect_uri="https://app.example/cb", scope=("openid",),
                           user_id="u1", auth_time=1, code_challenge=s256_challenge(VERIFIER),
                           code_challenge_method="S256", grant_id="g1")
TOKEN = RefreshToken(id=uuid4(), family_id=uuid4(), parent_id=None, client_id="lk_app", user_id=uuid4(),
                     scope=("openid",
                            "offline_access"), resource=None, auth_time=NOW, expires_at=NOW + timedelta(days=1),
                     family_expires_at=NOW + timedelta(days=30), used_at=None, revoked_at=None)


def test_a_code_of_another_client_is_invalid_grant():
    check_client_owns_code(GRANT, CLIENT)
    with pytest.raises(InvalidGrant):
        check_client_owns_code(replace(GRANT, client_id="lk_other"), CLIENT)


@pytest.mark.parametrize("granted, sent, ok", [
    ("https://app.example/cb", "https://app.example/cb", True),
    ("https://app.example/cb", None, False),
    ("https://app.example/cb", "https://app.example/other", False),
    ("https://app.example/cb", "https://app.example/cb/", False),
    ("", None, True),
    ("", "https://app.example/other", True),
    ("", "https://evil.example/cb", False),
], ids=["identical", "missing though the request had one", "another registered URI", "a trailing slash",
        "omitted at authorization and at the token endpoint", "omitted at authorization, a registered one sent",
        "omitted at authorization, an unregistered one sent"])
def test_redirect_uri_rule(granted, sent, ok):
    grant = replace(GRANT, redirect_uri=granted)
    if ok:
        check_redirect_uri(grant, CLIENT, sent)
    else:
        with pytest.raises(InvalidGrant):
            check_redirect_uri(grant, CLIENT, sent)


@pytest.mark.parametrize("challenge, method, verifier, ok", [
    (s256_challenge(VERIFIER), "S256", VERIFIER, True),
    (None, None, None, True),
    (s256_challenge(VERIFIER), "S256", None, False),
    (s256_challenge(VERIFIER), "S256", VERIFIER[:-1] + "Y", False),
    (s256_challenge(VERIFIER), "S256", "short", False),
    (None, None, VERIFIER, False),
    (VERIFIER, "plain", VERIFIER, False),
], ids=["matching verifier", "no challenge, no verifier", "challenge but no verifier", "wrong verifier",
        "malformed verifier", "verifier without a challenge (RFC 9700 §2.1.1)", "plain is never accepted"])
def test_pkce_rule(challenge, method, verifier, ok):
    grant = replace(GRANT, code_challenge=challenge, code_challenge_method=method)
    if ok:
        check_pkce(grant, verifier)
    else:
        with pytest.raises(PkceMismatch):
            check_pkce(grant, verifier)


@pytest.mark.parametrize("verifier", ["x" * 42, "x" * 129, "x" * 42 + "!", "x" * 42 + " ", "x" * 42 + "+"],
                         ids=["42 characters", "129 characters", "a '!'", "a space", "a '+'"])
def test_a_malformed_verifier_is_named_as_such_even_when_it_hashes_to_the_challenge(verifier):
    """RFC 7636 §4.1's syntax is checked before the hash, and the description says what is wrong."""
    grant = replace(GRANT, code_challenge=s256_challenge(verifier), code_challenge_method="S256")
    with pytest.raises(PkceMismatch, match="43 to 128 characters") as refused:
        check_pkce(grant, verifier)
    assert refused.value.body()["error"] == "invalid_grant"


@pytest.mark.parametrize("scope, grant_types, expected", [
    (("openid", "offline_access"), {"authorization_code", "refresh_token"}, True),
    (("openid",), {"authorization_code", "refresh_token"}, False),
    (("openid", "offline_access"), {"authorization_code"}, False),
], ids=["offline_access and the refresh grant", "no offline_access", "client not allowed to refresh"])
def test_refresh_token_policy(scope, grant_types, expected):
    assert wants_refresh_token(scope, replace(CLIENT, grant_types=frozenset(grant_types))) is expected


@pytest.mark.parametrize("form, grant_types, error", [
    ({}, {"authorization_code"}, InvalidRequest),
    ({"grant_type": "password"}, {"authorization_code"}, UnsupportedGrantType),
    ({"grant_type": "client_credentials"}, {"authorization_code"}, UnsupportedGrantType),
    ({"grant_type": "refresh_token"}, {"authorization_code"}, UnauthorizedClient),
], ids=["missing grant_type", "password grant", "client_credentials grant",
        "a grant the client was not registered for"])
def test_grant_type_errors(form, grant_types, error):
    with pytest.raises(error):
        grant_type_of(form, replace(CLIENT, grant_types=frozenset(grant_types)))


def test_every_grant_type_has_a_handler():
    assert set(GRANT_HANDLERS) == set(GrantType)
    assert grant_type_of({"grant_type": "refresh_token"}, CLIENT) is GrantType.REFRESH_TOKEN


def request_for(client_id: str) -> TokenRequest:
    return TokenRequest(client=replace(CLIENT, client_id=client_id), form={}, now=0)


@pytest.mark.parametrize("step, token, error", [
    (lambda t: check_exists(t, request_for("lk_app")), None, InvalidGrant),
    (lambda t: check_exists(t, request_for("lk_other")), TOKEN, InvalidGrant),
    (check_not_revoked, replace(TOKEN, revoked_at=NOW), InvalidGrant),
    (lambda t: check_not_reused(t, NOW, 0), replace(TOKEN, used_at=NOW - timedelta(seconds=1)), RefreshReuse),
    (lambda t: check_not_reused(t, NOW, 30), replace(TOKEN, used_at=NOW - timedelta(seconds=31)), RefreshReuse),
    (lambda t: check_not_expired(t, NOW), replace(TOKEN, expires_at=NOW), InvalidGrant),
    (lambda t: check_not_expired(t, NOW), replace(TOKEN, family_expires_at=NOW - timedelta(seconds=1)), InvalidGrant),
    (lambda t: check_resource(t, "https://other", "https://api"), TOKEN, InvalidTarget),
], ids=["unknown token", "another client's token", "revoked", "used before (no grace)", "used before the grace period",
        "idle lifetime over", "absolute lifetime over", "another resource"])
def test_refresh_steps_refuse(step, token, error):
    with pytest.raises(error):
        step(token)


@pytest.mark.parametrize("step", [
    lambda t: check_exists(t, request_for("lk_app")), check_not_revoked,
    lambda t: check_not_reused(replace(t, used_at=NOW - timedelta(seconds=5)), NOW, 30),
    lambda t: check_not_expired(t, NOW), lambda t: check_resource(t, "https://api", "https://api"),
    lambda t: check_resource(t, None, "https://api"),
], ids=["own token", "not revoked", "used within the grace period", "not expired", "the configured audience",
        "no resource asked"])
def test_refresh_steps_pass(step):
    step(TOKEN)


@pytest.mark.parametrize("token, client_id, grace, live", [
    (TOKEN, "lk_app", 0, True), (None, "lk_app", 0, False), (TOKEN, "lk_other", 0, False),
    (replace(TOKEN, revoked_at=NOW), "lk_app", 0, False), (replace(TOKEN, used_at=NOW), "lk_app", 0, False),
    (replace(TOKEN, used_at=NOW - timedelta(seconds=5)), "lk_app", 30, True),
    (replace(TOKEN, expires_at=NOW), "lk_app", 0, False),
], ids=["live", "unknown", "another client's", "revoked", "rotated", "rotated within the grace period", "expired"])
def test_refresh_token_liveness_for_introspection(token, client_id, grace, live):
    assert refresh_token_is_live(token, replace(CLIENT, client_id=client_id), NOW, grace) is live


@pytest.mark.parametrize("scope, with_refresh, expected", [
    (("openid", "offline_access", "notes:read"), True, ("openid", "offline_access", "notes:read")),
    (("openid", "offline_access", "notes:read"), False, ("openid", "notes:read")),
    (("openid",), False, ("openid",)),
], ids=["a refresh token: offline_access granted", "no refresh token: offline_access left out", "never asked"])
def test_the_response_scope_is_what_was_granted(scope, with_refresh, expected):
    assert response_scope(scope, with_refresh) == expected
