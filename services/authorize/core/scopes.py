"""Which scopes a client may request (OIDC Core §5.4 and §11, the APIs' scopes), and their
plain-language descriptions for the consent page.

The grammar itself is shared.oauth.scopes (RFC 6749 §3.3); which scopes exist is the API
catalog (shared.oauth.catalog): the built-in OpenID scopes plus every API's.
"""

from __future__ import annotations

from shared.errors import InvalidScope
from shared.models import Client
from shared.oauth.catalog import ApiCatalog
from shared.oauth.scopes import parse_scope

OFFLINE_ACCESS = "offline_access"


def requested_scope(raw: str | None, client: Client, catalog: ApiCatalog) -> tuple[str, ...]:
    """The requested scopes in request order, each known, allowed for ``client``, and (an API
    scope) of an API the client is linked to."""
    tokens = parse_scope(raw)
    for token in tokens:
        if not catalog.is_known(token) or token not in client.allowed_scopes:
            raise InvalidScope(f"scope {token} is not allowed for this client")
        api = catalog.owner(token)
        if api is not None and api.identifier not in client.apis:
            raise InvalidScope(f"scope {token} belongs to the API {api.identifier}, which this client may not use")
    return tokens


def describe(scope: tuple[str, ...], catalog: ApiCatalog) -> list[tuple[str, str]]:
    """(scope, plain words) for the consent screen, in request order: an API scope in its API's words."""
    return [(token, catalog.description(token)) for token in scope]
