"""shared.tokens: compact JWS with each algorithm, RFC 9068 typ, OIDC at_hash (Core §3.1.3.6)."""

import jwt
import pytest

from shared.crypto.signing_keys import SigningKey, generate_private_key, public_jwk
from shared.tokens.jws_sign import JwsSigner
from shared.tokens.minting import at_hash, mint_access_token, mint_id_token

CLAIMS = {"iss": "https://issuer.example", "sub": "user-1", "aud": "https://api.example", "exp": 4102444800,
          "iat": 1700000000, "jti": "j1", "client_id": "lk_app", "scope": "openid"}


def signing_key(alg: str) -> SigningKey:
    private_key = generate_private_key(alg)
    jwk = public_jwk(private_key, alg)
    return SigningKey(kid=jwk["kid"], alg=alg, private_key=private_key, public_jwk=jwk)


@pytest.fixture(scope="module", params=["RS256", "ES256", "EdDSA"])
def key(request) -> SigningKey:
    return signing_key(request.param)


def test_an_access_token_verifies_with_the_public_jwk_and_says_at_jwt(key):
    token = mint_access_token(JwsSigner(key), CLAIMS)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": key.alg, "kid": key.kid, "typ": "at+jwt"}
    public = jwt.PyJWK(key.public_jwk)
    assert jwt.decode(token, public.key, algorithms=[key.alg], audience="https://api.example") == CLAIMS


def test_an_id_token_carries_the_at_hash_of_its_access_token(key):
    signer = JwsSigner(key)
    access = mint_access_token(signer, CLAIMS)
    id_token = mint_id_token(signer, {"iss": "https://issuer.example", "sub": "user-1", "aud": "lk_app",
                                      "exp": 4102444800, "iat": 1700000000}, access)
    assert jwt.get_unverified_header(id_token)["typ"] == "JWT"
    claims = jwt.decode(id_token, jwt.PyJWK(key.public_jwk).key, algorithms=[key.alg], audience="lk_app")
    assert claims["at_hash"] == at_hash(access, key.alg)


def test_a_signature_from_another_key_does_not_verify():
    token = mint_access_token(JwsSigner(signing_key("ES256")), CLAIMS)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, jwt.PyJWK(signing_key("ES256").public_jwk).key, algorithms=["ES256"],
                   audience="https://api.example")


@pytest.mark.parametrize("token, alg, expected", [
    # OpenID Connect Core 1.0, Appendix A.3 (an RS256 example)
    ("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", "RS256", "77QmUPtjPfzWtF2AnpK9RQ"),
    ("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", "ES256", "77QmUPtjPfzWtF2AnpK9RQ"),
], ids=["spec example, RS256", "ES256 uses SHA-256 too"])
def test_at_hash_known_values(token, alg, expected):
    assert at_hash(token, alg) == expected


def test_eddsa_at_hash_is_half_a_sha512():
    assert len(at_hash("token", "EdDSA")) == 43  # 32 bytes, base64url without padding
