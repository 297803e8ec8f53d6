"""Properties of PKCE (shared.pkce, RFC 7636 §4.1, §4.2, §4.6): the verifier grammar against an
independent reading of the ABNF, and the S256 round trip. Malformed input is False, never an error."""

import base64
import hashlib
import string

from hypothesis import example, given
from hypothesis import strategies as st

from shared.pkce import is_valid_code_challenge, is_valid_code_verifier, s256_challenge, verify_code_verifier
from tests.support.strategies import ANY_CHARACTER, huge, junk_text, mutated

# §4.1: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" (ASCII only: RFC 5234 ALPHA and DIGIT)
UNRESERVED = string.ascii_letters + string.digits + "-._~"
verifiers = st.text(st.sampled_from(UNRESERVED), min_size=43, max_size=128)
near_verifiers = st.one_of(
    mutated(verifiers),
    st.text(st.sampled_from(UNRESERVED), min_size=40, max_size=46),  # around the lower bound
    st.text(st.sampled_from(UNRESERVED), min_size=125, max_size=131),  # around the upper bound
    st.builds(lambda v, c: v[:-1] + c, verifiers,
              st.sampled_from(["\n", "=", "+", "/", " ", "\u0661", "\uff21", "\u00e9", "\udcff"]) | ANY_CHARACTER),
)
any_verifier = st.one_of(junk_text(), near_verifiers, huge(st.sampled_from(UNRESERVED)))


def _abnf_verifier(text: str) -> bool:
    """The grammar read straight from §4.1, independently of the module's regular expression."""
    return 43 <= len(text) <= 128 and all(c in UNRESERVED for c in text)


@given(any_verifier)
@example("a" * 43 + "\n")  # a regex's "$" would accept a trailing newline
@example("\u0661" * 43)  # Arabic-Indic digits: \d would accept them
def test_verifier_grammar_is_exactly_the_abnf(text):
    assert is_valid_code_verifier(text) is _abnf_verifier(text)


@given(verifiers)
def test_a_valid_verifier_yields_a_valid_challenge_that_verifies(verifier):
    challenge = s256_challenge(verifier)
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    assert challenge == expected
    assert is_valid_code_challenge(challenge)
    assert verify_code_verifier(verifier, challenge) is True


@given(verifiers, any_verifier)
def test_any_other_verifier_is_refused(verifier, other):
    """One edit, a neighbour length, junk or a huge input: False, never an exception."""
    result = verify_code_verifier(other, s256_challenge(verifier))
    assert result is (other == verifier)


@given(st.one_of(junk_text(), mutated(verifiers.map(s256_challenge))), st.sampled_from(["S256", "plain", "", "s256"]))
def test_any_challenge_is_checked_without_error(challenge, method):
    valid = is_valid_code_challenge(challenge, method)
    assert isinstance(valid, bool)
    if valid:
        # Only what an S256 transformation can produce: 32 bytes, unpadded base64url.
        assert method == "S256" and len(base64.urlsafe_b64decode(challenge + "=")) == 32
        assert base64.urlsafe_b64encode(base64.urlsafe_b64decode(challenge + "=")).decode() == challenge + "="
