"""The storage interfaces, one set for every service, named by what they do (fosite's storage.go).

The pure cores depend only on these Protocols; shared.stores holds the PostgreSQL and Redis
adapters that implement them. Each Protocol lists just the operations a core calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from shared.models import (
    AuditEvent,
    AuthorizationGrant,
    Client,
    CodeRedemption,
    CodeUse,
    NewRefreshToken,
    Redeemed,
    RefreshRotated,
    RefreshRotation,
    RefreshToken,
    User,
)
from shared.oauth.catalog import ApiCatalog


class Clients(Protocol):
    async def get(self, client_id: str) -> Client | None: ...


class Apis(Protocol):
    """The API catalog, cached per process (shared.stores.pg_apis.CachedApis)."""

    async def catalog(self) -> ApiCatalog: ...
    async def reload(self) -> ApiCatalog: ...


class Users(Protocol):
    async def get_by_username(self, username: str) -> User | None: ...
    async def get(self, user_id: UUID | str) -> User | None: ...


class Consents(Protocol):
    async def granted_scopes(self, user_id: UUID | str, client_id: str) -> frozenset[str]: ...
    async def grant(self, user_id: UUID | str, client_id: str, scopes: frozenset[str]) -> None: ...


class Codes(Protocol):
    """Single-use authorization codes (RFC 6749 §4.1.2)."""

    async def consume(self, code: str, use: CodeUse, replay_window: int) -> AuthorizationGrant | None: ...
    async def find_use(self, code: str) -> CodeUse | None: ...


class RefreshTokens(Protocol):
    async def find(self, token_hash: str) -> RefreshToken | None: ...
    async def rotate_by_hash(self, rotation: RefreshRotation) -> RefreshRotated | None: ...
    async def successor_used(self, token_hash: str) -> bool: ...
    # Revokes the grant and records its access tokens (and ``also``) as pending denylist
    # entries in the same step; returns them. ``denylisted`` forgets them once written.
    async def revoke_family(self, family_id: UUID, also: Sequence[tuple[str, datetime]] = ()
                            ) -> list[tuple[str, datetime]]: ...
    async def denylisted(self, jtis: Sequence[str]) -> None: ...
    # Records entries written outside a grant's revocation (one access token) the same way.
    async def record_pending(self, entries: Sequence[tuple[str, datetime]]) -> None: ...


class Redemptions(Protocol):
    """The durable record that a code was exchanged (RFC 6749 §4.1.2), written before tokens leave."""

    async def redeem_issuing(self, redemption: CodeRedemption, first: NewRefreshToken) -> Redeemed: ...
    async def redeem_checking_user(self, redemption: CodeRedemption, user_id: UUID | None) -> Redeemed: ...
    async def find(self, code_hash: str) -> CodeUse | None: ...


class Denylist(Protocol):
    """Revoked access-token ids (jti), kept until the token would have expired."""

    # True once the entries are as durable as configured (replicas confirmed): then, and only
    # then, may their pending_revocations record be forgotten.
    async def add_many(self, entries: list[tuple[str, datetime]]) -> bool: ...
    async def contains(self, jti: str) -> bool: ...
    async def refuses(self, claims: Mapping[str, Any]) -> bool: ...  # jti or a revoked-before time


class Audit(Protocol):
    async def record(self, event: AuditEvent) -> None: ...
