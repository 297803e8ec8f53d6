"""Signing keys: list (public parts only) and rotate, for ``latchkey keys`` and the admin API.

The life cycle itself (next, active, retired; the announce window) is shared.keyring's. Rotating
encrypts the new private keys, so it needs LATCHKEY_KEY_ENCRYPTION_KEY; only the token service
and whoever runs ``latchkey keys rotate`` hold it by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.config import Settings
from shared.management.errors import Conflict, InvalidInput
from shared.models import AuditEvent, StoredSigningKey
from shared.stores.pg_audit import PgAudit
from shared.stores.pg_signing_keys import PgSigningKeys


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A signing key as management shows it: never its private half, encrypted or not."""

    key: StoredSigningKey

    def to_json(self) -> dict[str, Any]:
        k = self.key
        return {"kid": k.kid, "alg": k.alg, "status": k.status, "created_at": k.created_at.isoformat(),
                "activates_at": k.activates_at.isoformat(),
                "retired_at": k.retired_at.isoformat() if k.retired_at else None,
                "publish_until": k.publish_until.isoformat() if k.publish_until else None}


class KeyEncryptionKeyMissing(Conflict):
    """This process cannot encrypt a new private key: rotate where the key-encryption key is."""

    title = "Key-encryption key not configured"


async def list_keys(db: asyncpg.Pool | asyncpg.Connection) -> list[KeyRecord]:
    return [KeyRecord(k) for k in await PgSigningKeys(db).all()]


async def rotate(conn: asyncpg.Connection, settings: Settings, alg: str | None = None, *,
                 by: str = "cli") -> list[KeyRecord]:
    """A new key per algorithm of the key ring (or for ``alg`` only), announced as ``next``; the
    token service promotes it after LATCHKEY_KEY_ANNOUNCE_SECONDS (shared.keyring)."""
    # Imported here: the key ring pulls in key generation, which only rotating needs.
    from shared.keyring import add_keys, rotated_algs

    if not settings.key_encryption_key:
        raise KeyEncryptionKeyMissing(
            "LATCHKEY_KEY_ENCRYPTION_KEY is not set for this process, so it cannot encrypt a new signing key; "
            "rotate with `latchkey keys rotate` where the key is (by default only the token service has it)")
    ring = rotated_algs(settings, await PgSigningKeys(conn).all())
    if alg is not None and alg not in ring:
        raise InvalidInput(f"--alg {alg} is not in the key ring ({', '.join(ring)}); "
                           "configure it with LATCHKEY_SIGNING_ALG or LATCHKEY_ID_TOKEN_SIGNING_ALG")
    created = await add_keys(conn, settings, [alg] if alg else ring)
    await PgAudit(conn).record_change(AuditEvent("signing_keys_rotated",
                                          details={"actor": by, "kids": [k.kid for k in created]}))
    return [KeyRecord(k) for k in created]
