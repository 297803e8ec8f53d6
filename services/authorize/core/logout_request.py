"""Validating an RP-Initiated Logout request (OIDC RP-Initiated Logout 1.0 §2, §3, §4).

Pure rules over the parameters, the verified claims of the ``id_token_hint`` (its signature is
checked in services.authorize.id_token_hints) and the client. A post-logout redirect happens
only to a URI registered for the client, compared exactly (§3); anything that fails here is a
page, never a redirect, so the endpoint cannot be used as an open redirector.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.authorize.core.errors import CannotRedirect
from shared.models import Client
from shared.oauth.params import Params

# §2: the parameters this endpoint defines; each at most once. ui_locales and logout_hint are
# accepted and ignored (the page is English only; the hint cannot outrank the browser's session).
SINGLE_VALUED = ("id_token_hint", "logout_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales")


class BadHint(Exception):
    """The id_token_hint is not an ID token we issued (malformed, bad signature, wrong iss/aud)."""


@dataclass(frozen=True, slots=True)
class HintClaims:
    """What a verified ID token says about whom the relying party wants signed out."""

    sub: str
    client_id: str
    sid: str | None


@dataclass(frozen=True, slots=True)
class LogoutRequest:
    client: Client | None  # the relying party, when client_id or a verified hint names one
    hint: HintClaims | None  # a verified id_token_hint
    redirect_uri: str | None  # post_logout_redirect_uri, registered for ``client``
    state: str | None


def no_repeated_parameters(params: Params) -> None:
    for name in SINGLE_VALUED:
        if params.is_repeated(name):
            raise CannotRedirect(f"The sign-out request is malformed: {name} was sent more than once.",
                                 reason="parameter_repeated")


def hint_claims(claims: dict[str, Any], issuer: str) -> HintClaims:
    """§2: an ID token we issued, expired or not; its ``aud`` names the client (one audience)."""
    if claims.get("iss") != issuer:
        raise BadHint("the id_token_hint was not issued by this server")
    aud, sub, sid = claims.get("aud"), claims.get("sub"), claims.get("sid")
    if isinstance(aud, list) and len(aud) == 1:
        aud = aud[0]
    if not isinstance(aud, str) or not aud or not isinstance(sub, str) or not sub:
        raise BadHint("the id_token_hint is not an ID token")
    return HintClaims(sub=sub, client_id=aud, sid=sid if isinstance(sid, str) and sid else None)


def requesting_client_id(client_id: str | None, hint: HintClaims | None) -> str | None:
    """§2: with both, the client_id must be the one the ID token was issued to."""
    if client_id is not None and hint is not None and client_id != hint.client_id:
        raise CannotRedirect("This sign-out request names an application other than the one it came from.",
                             reason="hint_client_mismatch")
    return client_id if client_id is not None else (hint.client_id if hint else None)


def registered_redirect(uri: str | None, client: Client | None) -> str | None:
    """§3: only a URI registered for the client, compared exactly (no prefix, no normalising)."""
    if uri is None:
        return None
    if client is None:
        raise CannotRedirect("This sign-out request asks to return to an application without saying which one.",
                             reason="post_logout_redirect_uri_without_client")
    if uri not in client.post_logout_redirect_uris:
        raise CannotRedirect("This sign-out request asks to return to an address the application has not "
                             "registered. You have not been sent there.", reason="post_logout_redirect_uri_mismatch",
                             client_id=client.client_id)
    return uri


def known_client(client_id: str | None, client: Client | None) -> Client | None:
    if client_id is not None and (client is None or client.disabled):
        raise CannotRedirect("This sign-out request comes from an application this server does not know.",
                             reason="unknown_client")
    return client
