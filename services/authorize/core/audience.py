"""Which API a token is for (RFC 8707 §2), decided once per authorization request.

With ``resource`` the client names the API: it must be one the server knows and the client is
linked to (else invalid_target), and every non-OpenID scope must be that API's. Without it the
scopes decide: all of one API's, that API; of two APIs, invalid_scope (one token has one
audience); only OpenID scopes, the server's default audience (LATCHKEY_AUDIENCE).
The answer (None for the default) travels with the code and every token of the grant.
"""

from __future__ import annotations

from shared.errors import InvalidScope, InvalidTarget
from shared.models import Api, Client
from shared.oauth.catalog import ApiCatalog


def chosen_api(scope: tuple[str, ...], resource: str | None, client: Client, catalog: ApiCatalog,
               default_audience: str) -> str | None:
    owners = {api.identifier: api for s in scope if (api := catalog.owner(s)) is not None}
    if resource is not None:
        return _named(resource, owners, client, catalog, default_audience)
    if len(owners) > 1:
        first, second = sorted(owners)[:2]
        raise InvalidScope(f"the scopes belong to different APIs ({first} and {second}); an access token is "
                           "for one API: request one API's scopes, or name it with the resource parameter")
    return next(iter(owners), None)


def _named(resource: str, owners: dict[str, Api], client: Client, catalog: ApiCatalog,
           default_audience: str) -> str | None:
    if catalog.api(resource) is None:
        # The default audience without an API record (no demo seed) still takes OpenID-only requests.
        if resource == default_audience and not owners:
            return resource
        raise InvalidTarget("the requested resource is not served by this authorization server "
                            "(no API has that identifier)")
    if resource not in client.apis:
        raise InvalidTarget("this client may not request tokens for the requested resource")
    others = sorted(set(owners) - {resource})
    if others:
        raise InvalidScope(f"a requested scope belongs to the API {others[0]}, not to the requested resource")
    return resource
