"""Properties of client authentication (services.token.core.client_auth, RFC 6749 §2.3.1, App. B):
any Authorization header and form give credentials or invalid_client / invalid_request."""

import base64
from urllib.parse import quote, quote_plus

from hypothesis import example, given
from hypothesis import strategies as st

from services.token.core.client_auth import ClientCredentials, read_credentials
from shared.errors import InvalidClient, InvalidRequest
from shared.oauth.params import has_control_character
from tests.support.strategies import ANY_CHARACTER, any_bytes, any_text, huge, junk_text, mutated

# An id or secret a client may register: text without control characters that UTF-8 can carry.
credential_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=40)
client_ids = credential_text.filter(bool)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _basic(client_id: str, secret: str, quoting=quote_plus) -> str:
    return _b64(f"{quoting(client_id, safe='')}:{quoting(secret, safe='')}".encode("ascii"))


valid_basic = st.builds(_basic, client_ids, credential_text)
# base64 of junk, of junk with a colon, and of valid pairs with one edit before or after encoding.
basic_values = st.one_of(
    junk_text(), any_bytes.map(_b64), valid_basic, mutated(valid_basic),
    st.builds(lambda a, b: _b64(f"{a}:{b}".encode("utf-8", "surrogatepass")), any_text, any_text),
    st.builds(lambda i, s: _b64(f"{i}:{s}".encode("utf-8", "surrogatepass")), mutated(client_ids.map(quote_plus)),
              mutated(credential_text.map(quote_plus))),
    huge(st.sampled_from(["QUJD", "=", "%"])),
)
schemes = st.sampled_from(["Basic", "basic", "BASIC", "Bearer", "Digest", "", "Basic\t"]) | any_text
headers = st.one_of(st.none(), junk_text(), st.builds(lambda s, v: f"{s} {v}", schemes, basic_values),
                    st.builds(lambda v: f"Basic {v}", basic_values))
forms = st.dictionaries(st.sampled_from(["client_id", "client_secret", "grant_type"]) | any_text,
                        st.text(ANY_CHARACTER, min_size=1, max_size=40), max_size=4)


@given(headers, forms)
@example("Basic \udcff", {})  # raw header bytes reach us as surrogate escapes
@example("Basic " + _b64(b"\xed\xa0\x80:x"), {})  # an encoded surrogate: not UTF-8
@example("Basic " + _b64(b"%ED%A0%80:x"), {})  # the same, percent-escaped inside
@example("Basic " + _b64(b"a%:x"), {})  # a broken escape
def test_any_request_gives_credentials_or_a_typed_error(authorization, form):
    try:
        credentials = read_credentials(authorization, form)
    except (InvalidClient, InvalidRequest) as exc:
        assert exc.body()["error"] in ("invalid_client", "invalid_request")
        return
    assert isinstance(credentials, ClientCredentials)
    assert isinstance(credentials.client_id, str)
    if credentials.used_basic:
        # What Basic yields is fit to look up and hash: encodable, no control characters.
        assert credentials.client_id and not has_control_character(credentials.client_id)
        assert credentials.secret is not None and not has_control_character(credentials.secret)
        f"{credentials.client_id}{credentials.secret}".encode()


@given(client_ids, credential_text, st.sampled_from([quote, quote_plus]), st.sampled_from(["Basic", "basic"]))
def test_encoded_id_and_secret_decode_back(client_id, secret, quoting, scheme):
    """Appendix B: form-urlencode each half, join with ':', base64; the server undoes exactly that."""
    credentials = read_credentials(f"{scheme} {_basic(client_id, secret, quoting)}", {})
    assert (credentials.client_id, credentials.secret, credentials.method) == (client_id, secret, "client_secret_basic")


@given(client_ids, credential_text)
def test_the_same_client_id_in_the_body_is_allowed_and_another_is_refused(client_id, secret):
    header = f"Basic {_basic(client_id, secret)}"
    assert read_credentials(header, {"client_id": client_id}).client_id == client_id
    try:
        read_credentials(header, {"client_id": client_id + "x"})
    except InvalidRequest as exc:
        assert "does not match" in exc.description
    else:
        raise AssertionError("a second, different client_id was accepted")


@given(client_ids, credential_text, st.sampled_from(["\x00", "\n", "\r", "\x7f", "\x85"]), st.booleans())
def test_a_control_character_in_either_half_is_invalid_client(client_id, secret, control, in_id):
    tampered = (client_id + control, secret) if in_id else (client_id, secret + control)
    try:
        read_credentials(f"Basic {_basic(*tampered)}", {})
    except InvalidClient as exc:
        assert exc.headers()["WWW-Authenticate"].startswith("Basic")
    else:
        raise AssertionError("a control character was accepted")
