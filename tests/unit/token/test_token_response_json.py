"""TokenResponse.json writes its tokens unescaped: the text must still be exactly body() as JSON."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from services.token.core.issuer import TokenResponse
from shared.crypto.digests import new_secret
from shared.tokens.jws_sign import JwsSigner
from shared.tokens.minting import mint_access_token, mint_id_token
from tests.unit.token.test_token_minting import CLAIMS, signing_key

_SIGNERS = {alg: JwsSigner(signing_key(alg)) for alg in ("RS256", "ES256", "EdDSA")}


@settings(max_examples=60)
@given(alg=st.sampled_from(sorted(_SIGNERS)), scope=st.text(), expires_in=st.integers(0, 10**9),
       with_refresh=st.booleans(), with_id=st.booleans())
def test_json_is_body_as_json_for_real_tokens_and_any_scope(alg, scope, expires_in, with_refresh, with_id):
    signer = _SIGNERS[alg]
    access = mint_access_token(signer, CLAIMS)
    response = TokenResponse(access_token=access, expires_in=expires_in, scope=scope,
                             refresh_token=new_secret(32) if with_refresh else None,
                             id_token=mint_id_token(signer, {**CLAIMS, "aud": "lk_app"}, access) if with_id else None)
    text = response.json()
    assert json.loads(text) == response.body()
    assert text == json.dumps(response.body(), separators=(",", ":")).encode()
