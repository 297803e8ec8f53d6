"""What the token core needs from storage, named by operation (see shared.stores for adapters)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from uuid import UUID

from shared.models import (
    AuditEvent, AuthorizationGrant, Client, CodeRedemption, CodeUse, NewRefreshToken, Redeemed, RefreshRotated,
    RefreshRotation, RefreshToken,
)


class Clients(Protocol):
    async def get(self, client_id: str) -> Client | None: ...


class Codes(Protocol):
    async def consume(self, code: str, use: CodeUse, replay_window: int) -> AuthorizationGrant | None: ...
    async def find_use(self, code: str) -> CodeUse | None: ...


class RefreshTokens(Protocol):
    async def find(self, token_hash: str) -> RefreshToken | None: ...
    async def rotate_by_hash(self, rotation: RefreshRotation) -> RefreshRotated | None: ...
    async def successor_used(self, token_hash: str) -> bool: ...
    async def revoke_family(self, family_id: UUID) -> list[tuple[str, datetime]]: ...
    async def family_access_tokens(self, family_id: UUID) -> list[tuple[str, datetime]]: ...


class Redemptions(Protocol):
    """The durable record that a code was exchanged (see shared.stores.pg_code_redemptions)."""

    async def redeem_issuing(self, redemption: CodeRedemption, first: NewRefreshToken) -> Redeemed: ...
    async def redeem_checking_user(self, redemption: CodeRedemption, user_id: UUID | None) -> Redeemed: ...
    async def find(self, code_hash: str) -> CodeUse | None: ...


class Denylist(Protocol):
    async def add_many(self, entries: list[tuple[str, datetime]]) -> None: ...
    async def contains(self, jti: str) -> bool: ...


class Audit(Protocol):
    async def record(self, event: AuditEvent) -> None: ...


# Revoke a grant once more after a delay (seconds): see code_grant.replayed.
Resweep = Callable[[UUID, float], None]
