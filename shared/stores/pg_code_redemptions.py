"""Durable single use of authorization codes in PostgreSQL (RFC 6749 §4.1.2, §10.5).

Redis consumes a code first, but Redis can lose that write (an AOF fsynced once a second, a
replica promoted before it saw the GETDEL) and the code comes back. The row inserted here under
the code's hash is what makes an exchange final: it rides in the statement the exchange already
makes (the first refresh token's INSERT, or the question whether the user is enabled), so single
use costs no extra round trip. ``ON CONFLICT DO NOTHING`` on the primary key lets exactly one
exchange of a code through, whatever Redis remembers.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from shared.models import CodeRedemption, CodeUse, NewRefreshToken, Redeemed
from shared.stores.pg_refresh_tokens import INSERT_COLUMNS, insert_args

_REDEEM = """INSERT INTO code_redemptions (code_hash, grant_id, client_id, access_jti, access_expires_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1"""

# $1-$6 the redemption ($3 its client), $7-$19 the refresh token ($11 its user). The refresh token
# is inserted only when the redemption row is new and the user and client are enabled (a replica's
# client cache may lag a disable by seconds; PostgreSQL does not); the outer SELECT says which.
_REDEEM_ISSUING = f"""WITH redeemed AS ({_REDEEM}),
    issued AS (
        INSERT INTO refresh_tokens ({INSERT_COLUMNS})
        SELECT $7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19
        FROM users WHERE id = $11 AND NOT disabled AND EXISTS (SELECT 1 FROM redeemed)
          AND EXISTS (SELECT 1 FROM clients WHERE client_id = $3 AND NOT disabled)
        RETURNING id)
    SELECT EXISTS (SELECT 1 FROM redeemed) AS redeemed, EXISTS (SELECT 1 FROM issued) AS user_enabled"""

_REDEEM_CHECKING_USER = f"""WITH redeemed AS ({_REDEEM})
    SELECT EXISTS (SELECT 1 FROM redeemed) AS redeemed,
           EXISTS (SELECT 1 FROM users WHERE id = $7 AND NOT disabled)
           AND EXISTS (SELECT 1 FROM clients WHERE client_id = $3 AND NOT disabled) AS user_enabled"""

_DELETE_EXPIRED = """DELETE FROM code_redemptions WHERE code_hash IN (
                         SELECT code_hash FROM code_redemptions WHERE expires_at < now() LIMIT $1)"""


def _args(r: CodeRedemption) -> tuple[object, ...]:
    return (r.code_hash, r.grant_id, r.client_id, r.access_jti, r.access_expires_at, r.expires_at)


class PgCodeRedemptions:
    def __init__(self, pool: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = pool

    async def redeem_issuing(self, redemption: CodeRedemption, first: NewRefreshToken) -> Redeemed:
        """Records the redemption and stores the grant's first refresh token, one statement; the
        token only if the redemption is new and its user and client exist and are enabled."""
        row = await self._db.fetchrow(_REDEEM_ISSUING, *_args(redemption), *insert_args(first))
        return Redeemed(row["redeemed"], row["user_enabled"])

    async def redeem_checking_user(self, redemption: CodeRedemption, user_id: UUID | None) -> Redeemed:
        """Records the redemption and asks whether the user and client exist and are enabled, one statement."""
        row = await self._db.fetchrow(_REDEEM_CHECKING_USER, *_args(redemption), user_id)
        return Redeemed(row["redeemed"], row["user_enabled"])

    async def find(self, code_hash: str) -> CodeUse | None:
        """What the first exchange of this code issued (only asked when a code is refused)."""
        row = await self._db.fetchrow(
            "SELECT grant_id, access_jti, access_expires_at FROM code_redemptions WHERE code_hash = $1", code_hash)
        if row is None:
            return None
        return CodeUse(grant_id=row["grant_id"], access_jti=row["access_jti"],
                       access_expires_at=int(row["access_expires_at"].timestamp()))

    async def delete_expired(self, batch: int = 5000) -> int:
        """Deletes rows past their replay window, in batches that keep each transaction short."""
        deleted = 0
        while True:
            status = await self._db.execute(_DELETE_EXPIRED, batch)
            count = int(status.rsplit(" ", 1)[1])
            deleted += count
            if count < batch:
                return deleted
