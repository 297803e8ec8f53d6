"""The demo client's own checks: the answer on the callback (RFC 6749 §4.1.2, RFC 9207) and
the ID token claims (OIDC Core §3.1.3.7), plus its session store."""

import pytest

from examples.demo_client.oidc import (
    DemoError,
    at_hash,
    authorization_url,
    check_id_token_claims,
    code_from_callback,
    new_pending_login,
)
from examples.demo_client.provider import DiscoveryError, ProviderMetadata
from examples.demo_client.sessions import SessionStore
from shared.crypto.digests import sha256_b64url

ISSUER = "https://id.example"
METADATA = ProviderMetadata.parse({
    "issuer": ISSUER, "authorization_endpoint": ISSUER + "/authorize", "token_endpoint": "https://t/token",
    "jwks_uri": "https://t/jwks", "userinfo_endpoint": "https://r/userinfo",
    "authorization_response_iss_parameter_supported": True,
    "id_token_signing_alg_values_supported": ["RS256", "none", "HS256"],
}, ISSUER)
PENDING = new_pending_login(0.0)


def test_discovery_keeps_only_signing_algs_we_verify():
    assert METADATA.id_token_algs == {"RS256"}


def test_discovery_must_name_the_configured_issuer():
    with pytest.raises(DiscoveryError, match="names issuer"):
        ProviderMetadata.parse({**{k: "x" for k in ("authorization_endpoint", "token_endpoint", "jwks_uri",
                                                    "userinfo_endpoint")}, "issuer": "https://evil.example"}, ISSUER)


def test_authorization_url_carries_pkce_state_and_nonce():
    url = authorization_url(METADATA, "app", "https://app/callback", "openid", PENDING)
    assert url.startswith(ISSUER + "/authorize?response_type=code&client_id=app")
    assert f"state={PENDING.state}" in url and f"nonce={PENDING.nonce}" in url
    assert f"code_challenge={sha256_b64url(PENDING.code_verifier)}" in url and "code_challenge_method=S256" in url


GOOD = {"code": "c0de", "state": PENDING.state, "iss": ISSUER}


@pytest.mark.parametrize("query, pending, message", [
    pytest.param(GOOD, None, "No sign-in was started", id="no pending sign-in"),
    pytest.param({**GOOD, "state": "forged"}, PENDING, "state parameter does not match", id="forged state"),
    pytest.param({k: v for k, v in GOOD.items() if k != "state"}, PENDING, "state", id="missing state"),
    pytest.param({**GOOD, "iss": "https://evil.example"}, PENDING, "iss check", id="mix-up: other issuer"),
    pytest.param({k: v for k, v in GOOD.items() if k != "iss"}, PENDING, "iss check",
                 id="iss missing though supported"),
    pytest.param({"error": "access_denied", "state": PENDING.state, "iss": ISSUER}, PENDING, "access_denied",
                 id="user said no"),
    pytest.param({"state": PENDING.state, "iss": ISSUER}, PENDING, "neither a code", id="no code"),
])
def test_bad_callbacks_are_refused(query, pending, message):
    with pytest.raises(DemoError, match=message):
        code_from_callback(query, pending, METADATA)


def test_good_callback_gives_the_code():
    assert code_from_callback(GOOD, PENDING, METADATA) == "c0de"


NOW = 1_700_000_000
ACCESS = "header.payload.signature"
CLAIMS = {"iss": ISSUER, "sub": "u1", "aud": "app", "azp": "app", "exp": NOW + 300, "iat": NOW, "nonce": "n1",
          "at_hash": at_hash(ACCESS, "RS256")}


@pytest.mark.parametrize("change, message", [
    pytest.param({"iss": "https://evil.example"}, "issuer", id="wrong iss"),
    pytest.param({"aud": "other-app"}, "aud", id="wrong aud"),
    pytest.param({"aud": ["app", "other"], "azp": None}, "azp must name", id="several audiences without azp"),
    pytest.param({"azp": "other"}, "azp names another", id="azp of another client"),
    pytest.param({"exp": NOW - 31}, "expired", id="expired"),
    pytest.param({"iat": NOW + 31}, "iat", id="iat ahead"),
    pytest.param({"sub": None}, "sub", id="no sub"),
    pytest.param({"nonce": "replayed"}, "nonce", id="wrong nonce"),
    pytest.param({"nonce": None}, "nonce", id="nonce missing"),
    pytest.param({"at_hash": at_hash("another.access.token", "RS256")}, "at_hash", id="at_hash of another token"),
])
def test_bad_id_tokens_are_refused(change, message):
    claims = {k: v for k, v in {**CLAIMS, **change}.items() if v is not None}
    with pytest.raises(DemoError, match=message):
        check_id_token_claims(claims, issuer=ISSUER, client_id="app", nonce="n1", now=NOW, leeway=30,
                              access_token=ACCESS, alg="RS256")


def test_good_id_token_passes_and_refresh_skips_the_nonce():
    check_id_token_claims(CLAIMS, issuer=ISSUER, client_id="app", nonce="n1", now=NOW, leeway=30,
                          access_token=ACCESS, alg="RS256")
    check_id_token_claims({**CLAIMS, "nonce": "old"}, issuer=ISSUER, client_id="app", nonce=None, now=NOW,
                          leeway=30, access_token=ACCESS, alg="RS256")


def test_sessions_expire_rotate_and_are_bounded():
    clock = [0.0]
    store = SessionStore(ttl=60, max_sessions=2, clock=lambda: clock[0])
    first_id, first = store.create()
    assert store.get(first_id) is first
    new_id = store.rotate(first_id, first)
    assert store.get(first_id) is None and store.get(new_id) is first  # a fixed id is worthless
    store.create()
    store.create()  # the store is full: the least recently used session goes
    assert store.get(new_id) is None
    later_id, _ = store.create()
    clock[0] = 61
    assert store.get(later_id) is None
