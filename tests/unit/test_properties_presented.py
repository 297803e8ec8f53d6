"""Properties of the token service's reading of a presented token (services.token.core.presented):
whatever a client sends to /revoke or /introspect, the answer is our verified claims or None."""

import base64
import json
import time
from typing import Any

import jwt
from hypothesis import example, given
from hypothesis import strategies as st
from jwt.algorithms import get_default_algorithms

from services.token.core.presented import looks_like_jwt, read_access_token
from tests.integration.resource.minting import new_key
from tests.support.strategies import any_bytes, any_text, boundary_numbers, huge, json_values, junk_text, mutated

ISSUER = "https://issuer.test"
KEY = new_key("ES256")


class Keys:
    def verification_key(self, kid: str) -> jwt.PyJWK | None:
        return jwt.PyJWK(KEY.public_jwk, algorithm=KEY.alg) if kid == KEY.kid else None


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _signed(header_changes: dict[str, Any], claim_changes: dict[str, Any]) -> str:
    """Signed by hand: PyJWT's encoder refuses the odd headers and claims an attacker may send."""
    now = int(time.time())
    header = {"alg": KEY.alg, "kid": KEY.kid, "typ": "at+jwt", **header_changes}
    claims = {"iss": ISSUER, "sub": "u1", "client_id": "c1", "exp": now + 300, "iat": now, "jti": "j1",
              **claim_changes}
    signing_input = f"{_b64(header)}.{_b64(claims)}"
    signature = get_default_algorithms()[KEY.alg].sign(signing_input.encode(), KEY.private_key)
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


names = st.sampled_from(["kid", "typ", "alg", "iss", "exp", "iat", "nbf", "jti", "crit"]) | any_text
awkward = st.dictionaries(names, json_values() | boundary_numbers, max_size=2)
signed_tokens = st.builds(_signed, awkward, awkward)
tokens = st.one_of(junk_text(), signed_tokens, mutated(signed_tokens), any_bytes.map(lambda b: b.hex()),
                   st.lists(any_text, min_size=3, max_size=3).map(".".join), huge(st.sampled_from(["e", ".", "eyJ"])))


@given(tokens)
@example("..\ud800")  # found by a random run: PyJWT raised UnicodeEncodeError
def test_any_presented_token_is_claims_or_none(token):
    claims = read_access_token(token, Keys(), ISSUER) if looks_like_jwt(token) else None
    assert claims is None or (isinstance(claims, dict) and claims["iss"] == ISSUER)
