"""Properties of the bearer verifier (shared.bearer): token extraction (RFC 6750 §2), JWS compact
parsing (RFC 7515 §7.1) and header and claim checks (RFC 8725 §3, RFC 9068 §4). Whatever a request
carries, the result is an access token or a typed bearer error, never another exception."""

import base64
import json
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from hypothesis import example, given
from hypothesis import strategies as st
from jwt.algorithms import get_default_algorithms

from shared.bearer.extract import extract_token, token_from_header
from shared.bearer.jwks import usable_key
from shared.bearer.jws_verify import CompactJws, VerificationKey, parse_compact
from shared.bearer.token import AccessToken, VerifierPolicy
from shared.bearer.verifier import BearerVerifier
from shared.errors import BearerError, InvalidBearerRequest, InvalidToken, MissingToken
from tests.integration.resource.minting import new_key
from tests.support.strategies import any_bytes, any_text, boundary_numbers, huge, json_values, junk_text, mutated
from tests.support.typed import present

ALGS = frozenset({"RS256", "ES256", "EdDSA"})
ISSUER, AUDIENCE = "https://issuer.test", "https://api.test"
POLICY = VerifierPolicy(issuer=ISSUER, audience=AUDIENCE, algorithms=ALGS, leeway=30, check_revocation=False)
KEYS = {alg: new_key(alg) for alg in sorted(ALGS)}
VERIFYING: dict[str, VerificationKey] = {k.kid: present(usable_key(k.public_jwk, ALGS)) for k in KEYS.values()}
T = TypeVar("T")


class DictKeys:
    async def key_for(self, kid: str) -> VerificationKey:
        if kid not in VERIFYING:
            raise InvalidToken("unknown signing key")
        return VERIFYING[kid]


VERIFIER = BearerVerifier(POLICY, DictKeys())


def run_now(coro: Coroutine[Any, Any, T]) -> T:
    """Runs a coroutine that never waits (the key source above does no I/O) to its end."""
    try:
        coro.send(None)
    except StopIteration as done:
        value: T = done.value
        return value
    raise AssertionError("the verifier waited on I/O")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json_b64(value: Any) -> str:
    return b64url(json.dumps(value).encode())


def signed(alg: str, header_changes: dict[str, Any], claim_changes: dict[str, Any]) -> str:
    """A correctly signed token whose header and claims were changed before signing: only the
    verifier's checks, not the signature, stand between these values and an API."""
    key = KEYS[alg]
    now = int(time.time())
    header = {"alg": alg, "typ": "at+jwt", "kid": key.kid, **header_changes}
    claims = {"iss": ISSUER, "sub": "u1", "aud": AUDIENCE, "client_id": "c1", "scope": "openid",
              "exp": now + 300, "iat": now, "jti": "j1", **claim_changes}
    signing_input = f"{_json_b64(header)}.{_json_b64(claims)}"
    signature = get_default_algorithms()[alg].sign(signing_input.encode(), key.private_key)
    return f"{signing_input}.{b64url(signature)}"


header_names = st.sampled_from(["alg", "typ", "kid", "crit", "jku", "x5u", "jwk", "x5c", "b64", "zip"]) | any_text
claim_names = st.sampled_from(["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope",
                               "auth_time"]) | any_text


def changes(names: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    """One member set to an awkward value (a near-valid token), or a few at once."""
    value = st.one_of(json_values(), boundary_numbers)
    return st.one_of(st.builds(lambda name, v: {name: v}, names, value), st.dictionaries(names, value, max_size=3))


signed_tokens = st.builds(signed, st.sampled_from(sorted(ALGS)), changes(header_names) | st.just({}),
                          changes(claim_names) | st.just({}))
segments = st.one_of(any_text, any_bytes.map(b64url), json_values().map(_json_b64), st.just(""))
tokens = st.one_of(
    junk_text(), signed_tokens, mutated(signed_tokens),
    st.builds(lambda *parts: ".".join(parts), segments, segments, segments),
    st.builds(lambda h, p, s: f"{h}.{p}.{s}", json_values().map(_json_b64), any_text, any_text),
    st.lists(segments, max_size=6).map(".".join),
    huge(st.sampled_from(["e", ".", "eyJ", "W1tb"])),  # "W1tb" is "[[[": deep nesting once decoded
)


@given(tokens)
@example("eyJhbGciOiJFUzI1NiJ9.\u00e9.e30")  # a non-ASCII payload segment behind a valid header
@example(_json_b64({}) + "." + _json_b64({}) + ".\udcff")
def test_any_token_parses_or_is_invalid_token(token):
    try:
        jws = parse_compact(token)
    except InvalidToken:
        return
    assert isinstance(jws, CompactJws) and isinstance(jws.header, dict)
    assert jws.signing_input.decode("ascii").count(".") == 1


def _verified_or_invalid_token(token: str) -> None:
    try:
        access = run_now(VERIFIER.verify(token))
    except InvalidToken as exc:
        assert exc.status == 401 and exc.headers()["WWW-Authenticate"].startswith("Bearer")
        return
    assert isinstance(access, AccessToken)
    assert isinstance(access.subject, str) and isinstance(access.client_id, str) and isinstance(access.jti, str)
    assert isinstance(access.expires_at, int) and isinstance(access.issued_at, int)


@given(tokens)
def test_any_token_verifies_or_is_invalid_token(token):
    _verified_or_invalid_token(token)


@given(signed_tokens)
@example(signed("ES256", {}, {"exp": 10**400}))  # a JSON integer too large for a float
@example(signed("ES256", {}, {"iat": float("nan")}))
@example(signed("RS256", {"kid": ["k"]}, {}))
@example(signed("EdDSA", {"alg": "RS256"}, {}))
def test_any_signed_header_and_claims_verify_or_are_invalid_token(token):
    """Correctly signed, so every check after the signature sees these attacker-shaped values."""
    _verified_or_invalid_token(token)


@given(st.sampled_from(sorted(ALGS)))
def test_a_valid_token_verifies(alg):
    assert run_now(VERIFIER.verify(signed(alg, {}, {}))).subject == "u1"


# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
B64TOKEN_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"
b64tokens = st.builds(lambda body, pad: body + "=" * pad, st.text(st.sampled_from(B64TOKEN_CHARACTERS), min_size=1),
                      st.integers(0, 3))
schemes = st.sampled_from(["Bearer", "bearer", "BEARER", "Basic", "", "Bearer\t"]) | any_text
header_values = st.one_of(junk_text(), st.builds(lambda s, t: f"{s} {t}", schemes, b64tokens | junk_text()),
                          mutated(b64tokens.map(lambda t: f"Bearer {t}")))


def _is_b64token(text: str) -> bool:
    body = text.rstrip("=")
    return bool(body) and all(c in B64TOKEN_CHARACTERS for c in body)


@given(st.lists(header_values, max_size=3), st.lists(junk_text() | b64tokens, max_size=3))
@example(["Bearer \udcff"], [])
def test_any_request_gives_one_b64token_or_a_bearer_error(headers, body):
    try:
        token = extract_token(headers, body)
    except (InvalidBearerRequest, MissingToken) as exc:
        assert isinstance(exc, BearerError) and exc.headers()["WWW-Authenticate"].startswith("Bearer")
        return
    assert _is_b64token(token)


@given(b64tokens, st.sampled_from(["Bearer", "bearer", "BeArEr"]), st.sampled_from(["", " ", "  "]))
def test_a_bearer_header_gives_back_its_token(token, scheme, padding):
    assert token_from_header([f"{padding}{scheme} {padding}{token}{padding}"]) == token
    assert extract_token([f"{scheme} {token}"]) == token
    assert extract_token([], [token]) == token


REMEMBERING = BearerVerifier(POLICY, DictKeys(), remember=64)


def _outcome(verifier: BearerVerifier, token: str) -> AccessToken | str:
    try:
        return run_now(verifier.verify(token))
    except InvalidToken as exc:
        return exc.reason


@given(tokens)
def test_a_remembered_token_is_judged_as_a_full_verification_judges_it(token):
    """Remembering verified tokens (LATCHKEY_VERIFIED_TOKEN_CACHE_SIZE) changes no answer, on the
    first use or the next."""
    expected = _outcome(VERIFIER, token)
    assert _outcome(REMEMBERING, token) == expected
    assert _outcome(REMEMBERING, token) == expected


@given(signed_tokens, st.data())
def test_a_token_changed_after_a_valid_one_was_remembered_is_judged_in_full(token, data):
    """A remembered token lends nothing to one differing from it in any character."""
    _outcome(REMEMBERING, token)
    changed = data.draw(mutated(st.just(token)))
    assert _outcome(REMEMBERING, changed) == _outcome(VERIFIER, changed)
