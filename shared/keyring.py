"""Key rotation without downtime (RFC 7517 key sets, OIDC Core §10.1.1).

A new key is published as ``next`` for the announce window (longer than the JWKS cache
lifetime), then becomes ``active``; the old key is retired but stays published until every
token it signed has expired.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
from cryptography.exceptions import InvalidTag

from shared.config import Settings
from shared.crypto.signing_keys import (
    SigningKey,
    decrypt_private_key,
    encrypt_private_key,
    generate_private_key,
    public_jwk,
)
from shared.errors import ConfigError
from shared.models import StoredSigningKey
from shared.stores.pg_signing_keys import PgSigningKeys

ROTATION_LOCK_ID = 0x4C4B_524F_5441_5445  # "LKROTATE": one rotator across replicas


def retired_key_publish_seconds(settings: Settings) -> int:
    """How long a retired key must stay in the JWKS: the longest-lived token it signed, plus the
    verifiers' clock leeway, their JWKS cache lifetime and our key poll (a replica may sign
    with the old key until it next polls)."""
    return (max(settings.access_token_ttl, settings.id_token_ttl) + settings.clock_leeway + settings.jwks_max_age
            + settings.key_poll_interval)


async def add_keys(conn: asyncpg.Connection, settings: Settings, algs: list[str], now: datetime | None = None,
                   *, activate: bool | None = None) -> list[StoredSigningKey]:
    """Adds one key per algorithm, announced as next so that verifiers can fetch it before it
    signs; all active at once only when no key of any algorithm is active (first start: nobody
    holds a token or a cached key set yet), or when ``activate``. Decided under the table lock,
    so two first starts racing each other cannot both activate a key."""
    if not algs:
        return []
    now = now or datetime.now(UTC)
    kek = settings.require_key_encryption_key()
    # RSA generation takes ~0.1 s of CPU: off the event loop, like every other slow call.
    private_keys = [await asyncio.to_thread(generate_private_key, alg) for alg in algs]
    keys = PgSigningKeys(conn)
    async with conn.transaction():
        await conn.execute("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
        if activate is None:
            activate = not await keys.any_active()
        added = []
        for alg, private_key in zip(algs, private_keys, strict=True):
            jwk = public_jwk(private_key, alg)
            stored = StoredSigningKey(
                kid=jwk["kid"], alg=alg, status="active" if activate else "next", public_jwk=jwk,
                private_key_encrypted=encrypt_private_key(private_key, kek, jwk["kid"]),
                created_at=now, activates_at=now if activate else now + timedelta(seconds=settings.key_announce),
                retired_at=None, publish_until=None,
            )
            await keys.insert(stored)
            added.append(stored)
    return added


async def create_key(conn: asyncpg.Connection, settings: Settings, now: datetime | None = None,
                     alg: str | None = None, *, activate: bool | None = None) -> StoredSigningKey:
    """One key of ``alg`` (default: the access-token algorithm); see add_keys."""
    [stored] = await add_keys(conn, settings, [alg or settings.signing_alg], now, activate=activate)
    return stored


def rotated_algs(settings: Settings, current: list[StoredSigningKey]) -> list[str]:
    """The configured algorithms, and any other that still has an active key: a key that clients
    registered for keeps rotating even after the configuration moved on."""
    return list(dict.fromkeys([*settings.key_ring_algs, *(k.alg for k in current if k.status == "active")]))


async def rotate_if_due(conn: asyncpg.Connection, settings: Settings, now: datetime | None = None) -> bool:
    """One step of the automatic schedule; only the replica holding the advisory lock acts.

    Per algorithm: promotes a due ``next`` key, and announces a new one when the algorithm is
    configured but has none, or when its active key is older than the rotation interval; never
    while one is already waiting. Returns True when anything changed.
    """
    now = now or datetime.now(UTC)
    if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", ROTATION_LOCK_ID):
        return False
    try:
        keys = PgSigningKeys(conn)
        changed = bool(await keys.promote_due(now, retired_key_publish_seconds(settings)))
        current = await keys.all()
        interval = timedelta(seconds=settings.key_rotation_interval)
        wanted = []
        for alg in rotated_algs(settings, current):
            active = next((k for k in current if k.alg == alg and k.status == "active"), None)
            waiting = any(k.alg == alg and k.status == "next" for k in current)
            due = settings.key_rotation_interval > 0 and active is not None and active.activates_at + interval <= now
            if not waiting and (active is None or due):
                wanted.append(alg)
        return bool(await add_keys(conn, settings, wanted, now)) or changed
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", ROTATION_LOCK_ID)


async def ensure_active_key(conn: asyncpg.Connection, settings: Settings) -> None:
    """At start: every configured algorithm gets a key. On a first start they all sign at once;
    an algorithm added to a running key ring is announced first (next), and until it is
    promoted the token service signs with the RS256 key. Replicas starting together wait on
    the rotation lock so exactly one key per algorithm is made."""
    await conn.execute("SELECT pg_advisory_lock($1)", ROTATION_LOCK_ID)
    try:
        current = await PgSigningKeys(conn).all()
        await add_keys(conn, settings, [alg for alg in settings.key_ring_algs
                                        if not any(k.alg == alg and k.status in ("active", "next") for k in current)])
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", ROTATION_LOCK_ID)


def load_signing_key(stored: StoredSigningKey, kek: bytes) -> SigningKey:
    """Decrypts once; callers keep the result in memory and never decrypt per request. A
    key-encryption key that does not open it is a configuration error naming the variable."""
    try:
        private_key = decrypt_private_key(stored.private_key_encrypted, kek, stored.kid)
    except InvalidTag:
        raise ConfigError(f"LATCHKEY_KEY_ENCRYPTION_KEY does not decrypt signing key {stored.kid}: it is not "
                          "the key the signing keys were stored with") from None
    return SigningKey(kid=stored.kid, alg=stored.alg, private_key=private_key, public_jwk=stored.public_jwk)
