"""The checks that decide whether errors may go to the client at all.

Until client_id and redirect_uri are verified, an error is shown to the user and never
redirected (RFC 6749 §3.1.2.4 and §4.1.2.1, RFC 9700 §4.1): otherwise the endpoint would be an
open redirector. A redirect URI must equal a registered one exactly, with no normalisation or
prefix matching (RFC 9700 §2.1, §4.1.3); only a registered loopback IP URI lets a native app
choose its port (RFC 8252 §7.3, shared.redirect_uris.redirect_uri_matches). The URI sent is the
one redirected to, and the one the token request must repeat.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.authorize.core.errors import CannotRedirect
from shared.models import Client
from shared.oauth.params import Params
from shared.redirect_uris import redirect_uri_matches


@dataclass(frozen=True, slots=True)
class VerifiedRedirect:
    uri: str
    # RFC 6749 §4.1.3: the token request must repeat redirect_uri exactly when it was sent here.
    sent: bool


def client_id_of(params: Params) -> str:
    if params.is_repeated("client_id"):
        raise CannotRedirect("The request names its application (client_id) more than once.",
                             reason="client_id_repeated")
    _well_formed(params, "client_id")
    client_id = params.first("client_id")
    if client_id is None:
        raise CannotRedirect("The request does not say which application it comes from (client_id is missing).",
                             reason="client_id_missing")
    return client_id


def known_client(client: Client | None) -> Client:
    if client is None:
        raise CannotRedirect("The application that sent you here is not registered with this server.",
                             reason="unknown_client")
    return client


def verified_redirect_uri(params: Params, client: Client) -> VerifiedRedirect:
    if params.is_repeated("redirect_uri"):
        raise CannotRedirect("The request gives its return address (redirect_uri) more than once.",
                             reason="redirect_uri_repeated", client_id=client.client_id,
                             registered=client.redirect_uris)
    _well_formed(params, "redirect_uri", client)  # not to be taken for an omitted one
    sent = params.first("redirect_uri")
    if sent is None:
        return _registered_default(params, client)
    if not redirect_uri_matches(sent, client.redirect_uris):
        raise CannotRedirect("The return address (redirect_uri) is not one this application registered.",
                             reason="redirect_uri_mismatch", client_id=client.client_id, redirect_uri_sent=sent,
                             registered=client.redirect_uris)
    return VerifiedRedirect(sent, sent=True)


def _registered_default(params: Params, client: Client) -> VerifiedRedirect:
    """RFC 6749 §3.1.2.3: omitting redirect_uri is allowed only when exactly one is registered."""
    if len(client.redirect_uris) != 1:
        raise CannotRedirect("The request must give its return address (redirect_uri): "
                             "this application registered more than one.", reason="redirect_uri_missing",
                             client_id=client.client_id, registered=client.redirect_uris)
    if "openid" in (params.first("scope") or "").split(" "):
        # OIDC Core §3.1.2.1: redirect_uri is REQUIRED in OpenID Connect requests.
        raise CannotRedirect("An OpenID Connect request must give its return address (redirect_uri).",
                             reason="redirect_uri_missing", client_id=client.client_id,
                             registered=client.redirect_uris)
    return VerifiedRedirect(client.redirect_uris[0], sent=False)


def echoed_state(params: Params, client: Client) -> str | None:
    """The state an error redirect carries back exactly (RFC 6749 §4.1.2.1). One sent malformed
    cannot be, so its error is shown to the user like the others here."""
    _well_formed(params, "state", client)
    return params.first("state")


def _well_formed(params: Params, name: str, client: Client | None = None) -> None:
    if (problem := params.problem((name,))) is not None:
        raise CannotRedirect(f"The request is malformed: {problem}.", reason="malformed_parameters",
                             client_id=client.client_id if client is not None else None)
