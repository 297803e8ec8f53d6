"""A token's issue time to the millisecond (shared.bearer.jti) and the "revoked before" rule
built on it (shared.bearer.revocation.TokenRef): a token minted after a revocation, in the same
second, is accepted; one minted before it, or one whose time cannot be read, is refused."""

import uuid

from hypothesis import given
from hypothesis import strategies as st

from shared.bearer.jti import issued_ms, new_jti
from shared.bearer.revocation import TokenRef, revoked_before_ms

IAT = 1_790_000_000
seconds = st.integers(min_value=10**9, max_value=4 * 10**9)


@given(seconds, st.integers(min_value=0, max_value=999))
def test_a_jti_is_a_uuidv7_that_names_its_millisecond(iat, ms):
    jti = new_jti(iat, iat * 1000 + ms)
    parsed = uuid.UUID(jti)
    assert (parsed.version, parsed.variant, str(parsed)) == (7, uuid.RFC_4122, jti)
    assert issued_ms(jti, iat) == iat * 1000 + ms


def test_two_jtis_of_one_millisecond_differ():
    assert len({new_jti(IAT, IAT * 1000 + 5) for _ in range(1000)}) == 1000


def test_a_clock_reading_outside_the_iat_second_is_clamped_into_it():
    assert issued_ms(new_jti(IAT, (IAT + 1) * 1000 + 3), IAT) == IAT * 1000 + 999
    assert issued_ms(new_jti(IAT, (IAT - 1) * 1000), IAT) == IAT * 1000


def test_a_jti_that_does_not_carry_a_time_of_the_iat_second_means_the_start_of_that_second():
    assert issued_ms("k3J9x-random-22-chars_", IAT) == IAT * 1000  # another issuer's, or an earlier release's
    assert issued_ms(new_jti(IAT + 7, (IAT + 7) * 1000 + 500), IAT) == IAT * 1000  # iat and jti disagree
    assert issued_ms(str(uuid.uuid4()), IAT) == IAT * 1000
    assert issued_ms("0123456789-abcd-7xyz-0123-456789abcdef", IAT) == IAT * 1000  # not hex


def token_at(ms: int, iat: int = IAT) -> TokenRef:
    return TokenRef(jti=new_jti(iat, ms), subject="user", client_id="client", issued_at=iat)


def test_a_token_minted_after_a_revocation_in_its_own_second_is_accepted():
    before = str(IAT * 1000 + 400)
    assert token_at(IAT * 1000 + 401).revoked_by([None, before, None, None]) is False
    assert token_at(IAT * 1000 + 400).revoked_by([None, None, before, None]) is True
    assert token_at(IAT * 1000 + 12).revoked_by([None, None, None, before]) is True


def test_a_denylisted_jti_is_refused_whatever_its_time():
    assert token_at(IAT * 1000 + 999).revoked_by([b"1", None, None, None]) is True


def test_a_token_without_a_millisecond_is_refused_by_a_revocation_in_its_second():
    legacy = TokenRef(jti="no-time-here", subject="user", client_id="client", issued_at=IAT)
    assert legacy.revoked_by([None, str(IAT * 1000 + 1), None, None]) is True
    assert legacy.revoked_by([None, str(IAT * 1000 - 1), None, None]) is False


def test_a_value_written_as_an_epoch_second_refuses_that_whole_second():
    assert revoked_before_ms(b"1790000000") == IAT * 1000 + 999
    assert revoked_before_ms("1790000000123") == IAT * 1000 + 123
    assert token_at(IAT * 1000 + 999).revoked_by([None, b"1790000000", None, None]) is True
    assert token_at((IAT + 1) * 1000, IAT + 1).revoked_by([None, b"1790000000", None, None]) is False


def test_a_value_that_is_no_number_refuses_the_tokens_it_covers_and_only_those():
    unreadable = b"not-a-moment"
    assert token_at(IAT * 1000 + 5).revoked_by([None, unreadable, None, None]) is True
    assert token_at(IAT * 1000 + 5).revoked_by([None, None, None, b""]) is True
    assert token_at(IAT * 1000 + 5).revoked_by([None, None, None, None]) is False
