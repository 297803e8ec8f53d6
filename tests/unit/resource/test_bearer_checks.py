"""RFC 9068 §4 / RFC 8725 §3 header and claim rules, one changed detail per case."""

import pytest
from jwt.algorithms import get_default_algorithms

from shared.bearer.checks import check_alg_matches_key, check_claims, check_header
from shared.bearer.jws_verify import VerificationKey
from shared.bearer.token import AccessToken, VerifierPolicy
from shared.errors import InvalidToken

POLICY = VerifierPolicy(issuer="https://id.example", audience="https://api.example",
                        algorithms=frozenset({"RS256", "ES256"}), leeway=30, check_revocation=False)
NOW = 1_700_000_000
HEADER = {"alg": "RS256", "typ": "at+jwt", "kid": "k1"}
CLAIMS = {"iss": "https://id.example", "sub": "u1", "aud": "https://api.example", "client_id": "app",
          "scope": "openid notes:read", "exp": NOW + 60, "iat": NOW, "jti": "j1", "auth_time": NOW - 5}


def test_good_header_gives_its_kid():
    assert check_header(HEADER, POLICY) == "k1"
    assert check_header({**HEADER, "typ": "application/at+jwt"}, POLICY) == "k1"
    # RFC 7515 §4.1.9: a media type is compared case-insensitively.
    assert check_header({**HEADER, "typ": "AT+JWT"}, POLICY) == "k1"
    assert check_header({**HEADER, "typ": "Application/At+Jwt"}, POLICY) == "k1"


BAD_HEADERS = [
    pytest.param({"typ": "JWT"}, "not an access token", id="ID token typ JWT"),
    pytest.param({"typ": None}, "not an access token", id="typ missing"),
    pytest.param({"alg": "none"}, "algorithm not accepted", id="alg none"),
    pytest.param({"alg": "HS256"}, "algorithm not accepted", id="alg HS256"),
    pytest.param({"alg": "EdDSA"}, "algorithm not accepted", id="alg outside the allow-list"),
    pytest.param({"kid": None}, "kid header missing", id="kid missing"),
    pytest.param({"kid": 7}, "kid header missing", id="kid not text"),
    pytest.param({"jku": "https://evil.example/jwks"}, "jku header", id="jku refused"),
    pytest.param({"x5u": "https://evil.example/cert"}, "x5u header", id="x5u refused"),
    pytest.param({"jwk": {"kty": "RSA"}}, "jwk header", id="embedded jwk refused"),
    pytest.param({"x5c": ["MIIB"]}, "x5c header", id="x5c refused"),
    pytest.param({"crit": ["exp"]}, "critical header", id="crit refused"),
    # Forged headers with the wrong JSON types: 401, never a TypeError (500).
    pytest.param({"alg": ["RS256"]}, "algorithm not accepted", id="alg a list"),
    pytest.param({"alg": {"RS256": 1}}, "algorithm not accepted", id="alg an object"),
    pytest.param({"alg": 256}, "algorithm not accepted", id="alg a number"),
    pytest.param({"typ": ["at+jwt"]}, "not an access token", id="typ a list"),
    pytest.param({"typ": {"at+jwt": 1}}, "not an access token", id="typ an object"),
    pytest.param({"kid": ["k1"]}, "kid header missing", id="kid a list"),
    pytest.param({"kid": {"k": 1}}, "kid header missing", id="kid an object"),
    pytest.param({"kid": ""}, "kid header missing", id="kid empty"),
]


@pytest.mark.parametrize("change, message", BAD_HEADERS)
def test_bad_header_is_invalid_token(change, message):
    header = {k: v for k, v in {**HEADER, **change}.items() if v is not None}
    with pytest.raises(InvalidToken, match=message):
        check_header(header, POLICY)


def test_header_alg_must_equal_the_keys_alg():
    key = VerificationKey(kid="k1", alg="ES256", algorithm=get_default_algorithms()["ES256"], key=None)
    with pytest.raises(InvalidToken, match="does not match the key"):
        check_alg_matches_key(HEADER, key)
    check_alg_matches_key({**HEADER, "alg": "ES256"}, key)


GOOD_CLAIMS = [
    pytest.param({}, id="as issued"),
    pytest.param({"aud": ["https://other.example", "https://api.example"]}, id="aud list containing us"),
    pytest.param({"exp": NOW - 29}, id="expired within leeway"),
    pytest.param({"nbf": NOW + 29}, id="nbf within leeway"),
    pytest.param({"iat": NOW + 29}, id="iat slightly ahead within leeway"),
    pytest.param({"scope": None}, id="no scope claim"),
]


@pytest.mark.parametrize("change", GOOD_CLAIMS)
def test_good_claims_pass(change):
    claims = {k: v for k, v in {**CLAIMS, **change}.items() if v is not None}
    check_claims(claims, POLICY, NOW)


BAD_CLAIMS = [
    pytest.param({"iss": "https://id.example/"}, "wrong issuer", id="iss with trailing slash"),
    pytest.param({"iss": "https://evil.example"}, "wrong issuer", id="wrong iss"),
    pytest.param({"aud": "https://other.example"}, "aud", id="wrong aud"),
    pytest.param({"aud": []}, "aud claim malformed", id="empty aud list"),
    pytest.param({"exp": NOW - 30}, "expired", id="expired beyond leeway"),
    pytest.param({"nbf": NOW + 31}, "not yet valid", id="not yet valid"),
    pytest.param({"iat": NOW + 31}, "issued in the future", id="iat in the future"),
    pytest.param({"exp": "soon"}, "exp claim malformed", id="exp not a number"),
    pytest.param({"exp": True}, "exp claim malformed", id="exp boolean"),
    pytest.param({"scope": ["openid"]}, "scope claim malformed", id="scope as a list"),
    pytest.param({"sub": ""}, "sub claim malformed", id="empty sub"),
    # Every claim type assumption, one per case (a signed token is still only JSON).
    pytest.param({"aud": 7}, "aud claim malformed", id="aud a number"),
    pytest.param({"aud": {"https://api.example": 1}}, "aud claim malformed", id="aud an object"),
    pytest.param({"aud": ["https://api.example", 7]}, "aud claim malformed", id="aud list with a number"),
    pytest.param({"aud": [["https://api.example"]]}, "aud claim malformed", id="aud nested list"),
    pytest.param({"exp": float("nan")}, "exp claim malformed", id="exp NaN"),
    pytest.param({"exp": float("inf")}, "exp claim malformed", id="exp Infinity"),
    pytest.param({"exp": [NOW + 60]}, "exp claim malformed", id="exp a list"),
    pytest.param({"iat": False}, "iat claim malformed", id="iat boolean"),
    pytest.param({"iat": float("-inf")}, "iat claim malformed", id="iat minus Infinity"),
    pytest.param({"iat": "now"}, "iat claim malformed", id="iat text"),
    pytest.param({"nbf": True}, "nbf claim malformed", id="nbf boolean"),
    pytest.param({"nbf": "later"}, "nbf claim malformed", id="nbf text"),
    pytest.param({"nbf": float("nan")}, "nbf claim malformed", id="nbf NaN"),
    pytest.param({"auth_time": float("nan")}, "auth_time claim malformed", id="auth_time NaN"),
    pytest.param({"scope": 1}, "scope claim malformed", id="scope a number"),
    pytest.param({"scope": {"openid": True}}, "scope claim malformed", id="scope an object"),
    pytest.param({"sub": 42}, "sub claim malformed", id="sub a number"),
    pytest.param({"jti": ["j1"]}, "jti claim malformed", id="jti a list"),
    pytest.param({"client_id": None, "azp": "app"}, "client_id claim missing", id="client_id missing"),
    pytest.param({"client_id": {"id": "app"}}, "client_id claim malformed", id="client_id an object"),
    pytest.param({"iss": ["https://id.example"]}, "iss claim malformed", id="iss a list"),
] + [pytest.param({name: None}, f"{name} claim missing", id=f"{name} missing")
     for name in ("iss", "sub", "aud", "exp", "iat", "jti", "client_id")]


@pytest.mark.parametrize("change, message", BAD_CLAIMS)
def test_bad_claims_are_invalid_token(change, message):
    claims = {k: v for k, v in {**CLAIMS, **change}.items() if v is not None}
    with pytest.raises(InvalidToken, match=message):
        check_claims(claims, POLICY, NOW)


def test_access_token_reads_the_claims():
    token = AccessToken.from_claims(CLAIMS)
    assert (token.subject, token.client_id, token.jti) == ("u1", "app", "j1")
    assert token.scopes == {"openid", "notes:read"}
    assert token.has_scopes("openid") and not token.has_scopes("notes:write")
    assert token.auth_time == NOW - 5
