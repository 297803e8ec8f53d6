"""Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3).

``read_credentials`` finds which method a request uses: HTTP Basic with the id and secret
form-urlencoded first (§2.3.1, Appendix B), the secret in the body (client_secret_post), or
only a client_id (``none``, a public client, §2.1). Exactly one method per request.
``check_client`` then says why the credentials fail for the registered client, or None: a
public client must send no secret and a confidential one its secret, by either secret method
(whichever it registered: the two carry the same secret, and libraries differ in their default,
openid-client 6 sending client_secret_post where RFC 7591's default is client_secret_basic), and
the secret is compared as a SHA-256 digest in constant time. Descriptions stay generic; the
reason goes to the audit trail.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from shared.crypto.digests import constant_time_equals, sha256_hex
from shared.errors import InvalidClient, InvalidRequest
from shared.models import AuthMethod, Client
from shared.oauth.params import has_control_character

AUTH_FAILED = "client authentication failed"
_SECRET_METHODS = frozenset({"client_secret_basic", "client_secret_post"})
# Compared against when the client is unknown, so that path costs the same digest and compare.
_DECOY_HASH = sha256_hex("latchkey-decoy-client-secret")


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    client_id: str
    secret: str | None
    method: AuthMethod

    @property
    def used_basic(self) -> bool:
        return self.method == "client_secret_basic"


def _decode_basic(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidClient("malformed Basic credentials", used_basic=True) from None
    raw_id, colon, raw_secret = decoded.partition(":")
    if not colon:
        raise InvalidClient("malformed Basic credentials", used_basic=True)
    try:
        # Appendix B: both halves are form-urlencoded before being joined with ':'.
        client_id, secret = _form_decoded(raw_id), _form_decoded(raw_secret)
    except UnicodeDecodeError:
        raise InvalidClient("malformed Basic credentials", used_basic=True) from None
    if not client_id or has_control_character(client_id) or has_control_character(secret):
        raise InvalidClient("malformed Basic credentials", used_basic=True)
    return client_id, secret


def _form_decoded(text: str) -> str:
    """unquote_plus, skipped for the usual id or secret that holds neither '%' nor '+'."""
    return unquote_plus(text, errors="strict") if "%" in text or "+" in text else text


def _from_basic(authorization: str, form: Mapping[str, str]) -> ClientCredentials:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClient("only Basic client authentication is supported", used_basic=True)
    client_id, secret = _decode_basic(value)
    if "client_secret" in form:
        raise InvalidRequest("use exactly one client authentication method")
    if form.get("client_id", client_id) != client_id:
        raise InvalidRequest("client_id does not match the Basic credentials")
    return ClientCredentials(client_id, secret, "client_secret_basic")


def read_credentials(authorization: str | None, form: Mapping[str, str]) -> ClientCredentials:
    if authorization is not None:
        return _from_basic(authorization, form)
    client_id = form.get("client_id")
    if client_id is None:
        raise InvalidClient("client authentication required")
    secret = form.get("client_secret")
    if secret is None:
        return ClientCredentials(client_id, None, "none")
    return ClientCredentials(client_id, secret, "client_secret_post")


def check_client(credentials: ClientCredentials, client: Client | None, now: datetime | None = None) -> str | None:
    """Why these credentials do not authenticate ``client`` (for the audit trail), or None.

    After ``latchkey client rotate-secret --overlap`` the previous secret is accepted too until
    its expiry. Both digests are always compared (a decoy stands in for a missing one), so the
    time taken says nothing about which secret matched or whether there is a previous one.
    """
    expected = client.secret_hash if client is not None and client.secret_hash else _DECOY_HASH
    previous = client.previous_secret_hash if client is not None and client.previous_secret_hash else _DECOY_HASH
    given = sha256_hex(credentials.secret) if credentials.secret is not None else ""
    current_matches = constant_time_equals(given, expected)
    previous_matches = constant_time_equals(given, previous)
    if client is None:
        return "unknown client"
    if credentials.method != client.token_endpoint_auth_method and not (
            credentials.method in _SECRET_METHODS and client.token_endpoint_auth_method in _SECRET_METHODS):
        return f"used {credentials.method}, registered {client.token_endpoint_auth_method}"
    if credentials.method == "none" or current_matches:
        return None
    if previous_matches and _previous_secret_live(client, now or datetime.now(UTC)):
        return None
    return "previous secret after its overlap" if previous_matches else "wrong secret"


def _previous_secret_live(client: Client, now: datetime) -> bool:
    until = client.previous_secret_expires_at
    return client.previous_secret_hash is not None and until is not None and now < until
