"""Remembered consents (OIDC Core §3.1.2.4): list a user's, revoke one.

Revoking deletes the consent (the next authorization asks again) and ends that grant: the
refresh tokens the user holds for the client are revoked and its access tokens refused, and the
client is sent a back-channel logout for the user (``shared.management.cutoffs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.management.backends import Backends, record_change
from shared.management.cutoffs import carry_out
from shared.management.errors import NotFound
from shared.management.users import show as show_user
from shared.models import AuditEvent, User
from shared.stores.pg_clients import PgClients
from shared.stores.pg_refresh_tokens import PgRefreshTokens


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    username: str
    client_id: str
    client_name: str
    scopes: tuple[str, ...]
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"username": self.username, "client_id": self.client_id, "client_name": self.client_name,
                "scope": " ".join(self.scopes), "updated_at": self.updated_at.isoformat()}


@dataclass(frozen=True, slots=True)
class ConsentRevoked:
    username: str
    client_id: str
    consent_deleted: bool
    refresh_tokens_revoked: int

    def to_json(self) -> dict[str, Any]:
        return {"username": self.username, "client_id": self.client_id, "consent_deleted": self.consent_deleted,
                "refresh_tokens_revoked": self.refresh_tokens_revoked}


async def list_consents(backends: Backends, username: str) -> list[ConsentRecord]:
    user = (await show_user(backends, username)).user
    rows = await backends.db.fetch(
        """SELECT c.client_id, k.name, c.scopes, c.updated_at FROM consents c JOIN clients k USING (client_id)
           WHERE c.user_id = $1 ORDER BY c.client_id""", user.id)
    return [ConsentRecord(user.username, r["client_id"], r["name"], tuple(r["scopes"]), r["updated_at"]) for r in rows]


async def revoke(backends: Backends, username: str, client_id: str, *, actor: str = "cli") -> ConsentRevoked:
    """Idempotent; a cut-off whose Redis write failed is written by the token service (pending_cutoffs)."""
    user = (await show_user(backends, username)).user
    if await PgClients(backends.db).find(client_id) is None:
        raise NotFound(f"no client {client_id!r}")
    return await revoke_of_user(backends, user, client_id, actor=actor)


async def revoke_of_user(backends: Backends, user: User, client_id: str, *, actor: str) -> ConsentRevoked:
    """``revoke`` for a user already found (the account page knows its user by the session)."""
    async with backends.transaction() as conn:
        deleted = await conn.fetchval(
            "DELETE FROM consents WHERE user_id = $1 AND client_id = $2 RETURNING true", user.id, client_id)
        revoked_rows = await conn.fetchval(
            "SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL",
            user.id, client_id)
        revoked = await PgRefreshTokens(conn).revoke_owned(user_id=user.id, client_id=client_id)
        # No margin: the user may consent again at once, and new tokens must work.
        cutoff = await backends.record_cutoff(conn, user_id=user.id, client_id=client_id, margin=0,
                                              reason="consent_revoked")
        await record_change(conn, AuditEvent("consent_revoked", client_id=client_id, user_id=str(user.id),
                                              details={"actor": actor}))
    await carry_out(backends, revoked, cutoff)
    return ConsentRevoked(user.username, client_id, bool(deleted), int(revoked_rows))
