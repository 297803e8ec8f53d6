"""Signing keys in PostgreSQL, private halves encrypted (see shared.crypto.signing_keys)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from shared.models import StoredSigningKey

_COLUMNS = ("kid, alg, status, public_jwk, private_key_encrypted, created_at, activates_at, retired_at, "
            "publish_until")


def _to_key(row: asyncpg.Record) -> StoredSigningKey:
    return StoredSigningKey(**{**dict(row), "private_key_encrypted": bytes(row["private_key_encrypted"])})


class PgSigningKeys:
    def __init__(self, pool: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = pool

    async def insert(self, key: StoredSigningKey) -> None:
        await self._db.execute(
            f"INSERT INTO signing_keys ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            key.kid, key.alg, key.status, key.public_jwk, key.private_key_encrypted,
            key.created_at, key.activates_at, key.retired_at, key.publish_until,
        )

    async def all(self) -> list[StoredSigningKey]:
        rows = await self._db.fetch(f"SELECT {_COLUMNS} FROM signing_keys ORDER BY created_at")
        return [_to_key(r) for r in rows]

    async def published(self) -> list[StoredSigningKey]:
        """What the JWKS shows: next, active, and retired keys whose tokens may still be live."""
        rows = await self._db.fetch(
            f"""SELECT {_COLUMNS} FROM signing_keys
                WHERE status IN ('next', 'active') OR publish_until > now()
                ORDER BY created_at"""
        )
        return [_to_key(r) for r in rows]

    async def active(self, alg: str) -> StoredSigningKey | None:
        row = await self._db.fetchrow(f"SELECT {_COLUMNS} FROM signing_keys WHERE status = 'active' AND alg = $1",
                                      alg)
        return _to_key(row) if row else None

    async def any_active(self) -> bool:
        return bool(await self._db.fetchval("SELECT EXISTS (SELECT 1 FROM signing_keys WHERE status = 'active')"))

    async def promote_due(self, now: datetime, publish_old_for_seconds: int) -> list[str]:
        """Makes each due 'next' key active and retires the key of its algorithm that signed
        until then; returns the new active kids.

        Runs in one transaction so every algorithm always has exactly one active key.
        """
        conn = self._db
        assert isinstance(conn, asyncpg.Connection), "promote_due needs a dedicated connection"
        promoted: list[tuple[str, str]] = []
        async with conn.transaction():
            due = await conn.fetch(
                """SELECT kid, alg FROM signing_keys WHERE status = 'next' AND activates_at <= $1
                   ORDER BY activates_at FOR UPDATE""",
                now,
            )
            for kid, alg in due:
                if alg in (a for _, a in promoted):  # two due keys of one algorithm: the later waits a round
                    continue
                await conn.execute(
                    """UPDATE signing_keys SET status = 'retired', retired_at = $1::timestamptz,
                           publish_until = $1::timestamptz + make_interval(secs => $2)
                       WHERE status = 'active' AND alg = $3""",
                    now, float(publish_old_for_seconds), alg,
                )
                await conn.execute("UPDATE signing_keys SET status = 'active' WHERE kid = $1", kid)
                promoted.append((kid, alg))
        return [kid for kid, _ in promoted]
