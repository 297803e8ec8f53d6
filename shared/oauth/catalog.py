"""Every API the server knows, indexed the three ways requests need: by identifier, by scope
name and by the API's own client_id. Pure: built from the store's rows, shared by the
authorize service (scope and resource checks, consent wording) and the token service
(access-token lifetime, introspection by an API).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from shared.models import OPENID_SCOPES, Api


@dataclass(frozen=True, slots=True)
class ApiCatalog:
    apis: tuple[Api, ...] = ()
    _by_identifier: dict[str, Api] = field(init=False, repr=False, compare=False)
    _by_scope: dict[str, Api] = field(init=False, repr=False, compare=False)
    _by_client_id: dict[str, Api] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_identifier", {api.identifier: api for api in self.apis})
        object.__setattr__(self, "_by_scope", {s.name: api for api in self.apis for s in api.scopes})
        object.__setattr__(self, "_by_client_id", {api.client_id: api for api in self.apis if api.client_id})

    @classmethod
    def of(cls, apis: Iterable[Api]) -> ApiCatalog:
        return cls(tuple(apis))

    def api(self, identifier: str) -> Api | None:
        return self._by_identifier.get(identifier)

    def owner(self, scope: str) -> Api | None:
        """The API a scope belongs to; None for an OpenID scope or an unknown one."""
        return self._by_scope.get(scope)

    def by_client_id(self, client_id: str) -> Api | None:
        return self._by_client_id.get(client_id)

    def is_known(self, scope: str) -> bool:
        return scope in OPENID_SCOPES or scope in self._by_scope

    def description(self, scope: str) -> str:
        if scope in OPENID_SCOPES:
            return OPENID_SCOPES[scope]
        api = self._by_scope.get(scope)
        return next((s.description for s in api.scopes if s.name == scope), scope) if api else scope

    def longest_ttl(self, default: int) -> int:
        """The longest access-token lifetime any API may give: an upper bound fixed before the
        grant's API is known (the code's used marker must outlive the token it names)."""
        return max((api.access_token_ttl or default for api in self.apis), default=default)

    def access_token_ttl(self, audience: str, default: int) -> int:
        api = self._by_identifier.get(audience)
        return api.access_token_ttl if api is not None and api.access_token_ttl else default

    def scope_names(self) -> list[str]:
        """Every scope a client may be allowed: the OpenID scopes, then each API's."""
        return [*OPENID_SCOPES, *(s.name for api in self.apis for s in api.scopes)]


EMPTY = ApiCatalog()  # no APIs: only the OpenID scopes exist
