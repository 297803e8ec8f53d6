"""The logout token's claims (OIDC Back-Channel Logout 1.0 §2.4) and the delivery's retry plan."""

from __future__ import annotations

import dataclasses

from services.token.backchannel_logout import RetryPolicy
from services.token.core.logout_token import BACKCHANNEL_LOGOUT_EVENT, logout_token_claims
from shared.logout.queue import wants_logout
from shared.models import Client

CLIENT = Client(client_id="lk_rp", name="RP", secret_hash=None, redirect_uris=("https://rp.example/cb",),
                allowed_scopes=frozenset({"openid"}), grant_types=frozenset({"authorization_code"}),
                token_endpoint_auth_method="none", is_public=True,
                backchannel_logout_uri="https://rp.example/bcl")


def test_claims_name_the_session_and_never_carry_a_nonce():
    claims = logout_token_claims(issuer="https://op.example", client_id="lk_rp", sub="u-1", sid="s-1", now=1000)
    assert {k: claims[k] for k in ("iss", "aud", "iat", "exp", "sub", "sid")} == {
        "iss": "https://op.example", "aud": "lk_rp", "iat": 1000, "exp": 1120, "sub": "u-1", "sid": "s-1"}
    assert claims["events"] == {BACKCHANNEL_LOGOUT_EVENT: {}} and "nonce" not in claims


def test_without_a_session_only_sub_and_every_token_has_its_own_jti():
    one, two = (logout_token_claims(issuer="i", client_id="c", sub="u", sid="", now=1) for _ in range(2))
    assert "sid" not in one and one["sub"] == "u" and one["jti"] != two["jti"]


def test_waits_double_and_bound_the_whole_delivery():
    policy = RetryPolicy(attempts=4, timeout=5.0, backoff=1.0)
    assert [policy.delay(n) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert policy.longest_delivery == 4 * 5.0 + 7.0


def test_a_client_requiring_sid_gets_no_token_without_one():
    assert wants_logout(CLIENT, "")
    assert not wants_logout(dataclasses.replace(CLIENT, backchannel_logout_session_required=True), "")
    assert wants_logout(dataclasses.replace(CLIENT, backchannel_logout_session_required=True), "s")
    assert not wants_logout(dataclasses.replace(CLIENT, disabled=True), "s")
    assert not wants_logout(dataclasses.replace(CLIENT, backchannel_logout_uri=None), "s")
    assert not wants_logout(None, "s")
