"""PgSigningKeys and the keyring life cycle next -> active -> retired (RFC 7517, OIDC Core §10.1.1).

Each test has a database of its own (fixture keys_conn): at most one key of each algorithm is
active at a time. The settings here keep ES256 (access and ID tokens) and, as always, RS256.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import asyncpg
import jwt
import pytest

from shared.crypto.signing_keys import encrypt_private_key, generate_private_key, public_jwk
from shared.db import connect
from shared.errors import ConfigError
from shared.keyring import (
    ROTATION_LOCK_ID,
    add_keys,
    create_key,
    ensure_active_key,
    load_signing_key,
    retired_key_publish_seconds,
    rotate_if_due,
)
from shared.models import KeyStatus, StoredSigningKey
from shared.stores.pg_signing_keys import PgSigningKeys
from tests.support.typed import present

DAY = timedelta(days=1)


@pytest.fixture
def s(keys_settings):
    """Key ring ES256 + RS256; rotation every day, announced 10 minutes ahead."""
    return dataclasses.replace(keys_settings, signing_alg="ES256", id_token_signing_alg="ES256",
                               key_rotation_interval=86400, key_announce=600)


def _stored(kek: bytes, status: KeyStatus, now: datetime) -> StoredSigningKey:
    private_key = generate_private_key("ES256")
    jwk = public_jwk(private_key, "ES256")
    return StoredSigningKey(kid=jwk["kid"], alg="ES256", status=status, public_jwk=jwk,
                            private_key_encrypted=encrypt_private_key(private_key, kek, jwk["kid"]),
                            created_at=now, activates_at=now, retired_at=None, publish_until=None)


async def _statuses(conn, alg: str = "ES256") -> list[tuple[str, str]]:
    return [(k.kid, k.status) for k in await PgSigningKeys(conn).all() if k.alg == alg]


async def _published(conn, alg: str = "ES256") -> list[tuple[str, str]]:
    return [(k.kid, k.status) for k in await PgSigningKeys(conn).published() if k.alg == alg]


async def test_insert_then_read_back(keys_conn, s):
    keys, now = PgSigningKeys(keys_conn), datetime.now(UTC)
    active = _stored(s.key_encryption_key, "active", now)
    await keys.insert(active)
    assert await keys.all() == [active]
    assert await keys.active("ES256") == active
    assert await keys.active("RS256") is None
    assert await keys.published() == [active]
    with pytest.raises(asyncpg.UniqueViolationError):  # a second signer of one algorithm is refused
        await keys.insert(_stored(s.key_encryption_key, "active", now))


async def test_each_algorithm_has_its_own_active_key(keys_conn, s):
    now = datetime.now(UTC)
    es256, rs256 = await add_keys(keys_conn, s, ["ES256", "RS256"], now)
    assert (es256.status, rs256.status) == ("active", "active")  # an empty ring: both sign at once
    keys = PgSigningKeys(keys_conn)
    assert (present(await keys.active("ES256")).kid, present(await keys.active("RS256")).kid) == (es256.kid, rs256.kid)
    later = await add_keys(keys_conn, s, ["ES256", "RS256"], now)
    assert [(k.alg, k.status) for k in later] == [("ES256", "next"), ("RS256", "next")]


async def test_an_algorithm_added_to_a_running_ring_is_announced_before_it_signs(keys_conn, s):
    """An upgrade, or a newly configured algorithm: verifiers must see the key before tokens."""
    now = datetime.now(UTC)
    rs256 = await create_key(keys_conn, s, now, "RS256")
    await ensure_active_key(keys_conn, s)  # s configures ES256 as well
    [es256] = [k for k in await PgSigningKeys(keys_conn).all() if k.alg == "ES256"]
    assert es256.status == "next" and es256.activates_at > now
    assert await rotate_if_due(keys_conn, s, es256.activates_at) is True
    assert await _statuses(keys_conn, "ES256") == [(es256.kid, "active")]
    assert await _statuses(keys_conn, "RS256") == [(rs256.kid, "active")]  # untouched


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
async def test_create_key_first_active_then_announced(keys_conn, s, alg):
    s = dataclasses.replace(s, signing_alg=alg)
    now = datetime.now(UTC)
    first = await create_key(keys_conn, s, now)
    second = await create_key(keys_conn, s, now)
    assert (first.status, first.activates_at, first.alg) == ("active", now, alg)
    assert (second.status, second.activates_at, second.alg) == ("next", now + timedelta(seconds=s.key_announce), alg)
    assert [k.kid for k in await PgSigningKeys(keys_conn).published()] == [first.kid, second.kid]
    assert present(await PgSigningKeys(keys_conn).active(alg)).kid == first.kid


async def test_stored_private_key_is_encrypted_and_loads_once_decrypted(keys_conn, s):
    stored = await create_key(keys_conn, s)
    raw = await keys_conn.fetchval("SELECT private_key_encrypted FROM signing_keys WHERE kid = $1", stored.kid)
    assert b"PRIVATE KEY" not in raw
    signer = load_signing_key((await PgSigningKeys(keys_conn).all())[0], s.key_encryption_key)
    token = jwt.encode({"sub": "alice"}, signer.private_key, algorithm=signer.alg, headers={"kid": signer.kid})
    assert jwt.decode(token, jwt.PyJWK(stored.public_jwk).key, algorithms=[signer.alg]) == {"sub": "alice"}
    with pytest.raises(ConfigError, match="LATCHKEY_KEY_ENCRYPTION_KEY does not decrypt"):
        load_signing_key(stored, bytes(32))


async def test_promote_due_activates_next_and_retires_the_old_key(keys_conn, s):
    now = datetime.now(UTC)
    old = await create_key(keys_conn, s, now)
    new = await create_key(keys_conn, s, now)
    keys = PgSigningKeys(keys_conn)
    assert await keys.promote_due(new.activates_at - timedelta(seconds=1), 930) == []
    assert await _statuses(keys_conn) == [(old.kid, "active"), (new.kid, "next")]
    assert await keys.promote_due(new.activates_at, 930) == [new.kid]
    assert await _statuses(keys_conn) == [(old.kid, "retired"), (new.kid, "active")]
    retired = (await keys.all())[0]
    assert retired.retired_at == new.activates_at
    assert retired.publish_until == new.activates_at + timedelta(seconds=930)


async def test_promoting_one_algorithm_leaves_the_other_signing(keys_conn, s):
    now = datetime.now(UTC)
    rs256 = await create_key(keys_conn, s, now, "RS256")
    old = await create_key(keys_conn, s, now, "ES256", activate=True)
    new = await create_key(keys_conn, s, now, "ES256")
    assert await PgSigningKeys(keys_conn).promote_due(new.activates_at, 930) == [new.kid]
    assert await _statuses(keys_conn, "ES256") == [(old.kid, "retired"), (new.kid, "active")]
    assert await _statuses(keys_conn, "RS256") == [(rs256.kid, "active")]


async def test_rotate_if_due_follows_the_schedule(keys_conn, s):
    t0 = datetime.now(UTC) - 3 * DAY
    announce = timedelta(seconds=s.key_announce)
    steps = [  # (when, changed, statuses after)
        (t0, True, ["active"]),
        (t0 + DAY / 2, False, ["active"]),
        (t0 + DAY, True, ["active", "next"]),
        (t0 + DAY + announce / 2, False, ["active", "next"]),
        (t0 + DAY + announce, True, ["retired", "active"]),
        (t0 + DAY + announce + timedelta(hours=1), False, ["retired", "active"]),
    ]
    for when, changed, statuses in steps:
        assert await rotate_if_due(keys_conn, s, when) is changed, when - t0
        for alg in ("ES256", "RS256"):  # every algorithm of the ring on the same schedule
            assert [status for _, status in await _statuses(keys_conn, alg)] == statuses, (alg, when - t0)


async def test_a_retired_key_stays_published_until_publish_until(keys_conn, s):
    # Announced long enough ago that promoting it now is due: the old key retires now.
    now = datetime.now(UTC)
    old = await create_key(keys_conn, s, now - DAY)
    new = await create_key(keys_conn, s, now - DAY)
    assert await rotate_if_due(keys_conn, s) is True
    assert await _published(keys_conn) == [(old.kid, "retired"), (new.kid, "active")]
    retired = next(k for k in await PgSigningKeys(keys_conn).published() if k.kid == old.kid)
    assert present(retired.publish_until) > now + timedelta(seconds=retired_key_publish_seconds(s) - 60)


async def test_a_retired_key_is_unpublished_after_publish_until(keys_conn, s):
    # The same rotation a day ago: every token the old key signed has expired since.
    then = datetime.now(UTC) - 2 * DAY
    await create_key(keys_conn, s, then)
    new = await create_key(keys_conn, s, then)
    assert await rotate_if_due(keys_conn, s, new.activates_at) is True
    assert await _published(keys_conn) == [(new.kid, "active")]
    assert len(await _statuses(keys_conn)) == 2


async def test_rotation_does_nothing_while_another_replica_holds_the_lock(keys_conn, keys_settings, s):
    other_replica = await connect(keys_settings)
    try:
        assert await other_replica.fetchval("SELECT pg_try_advisory_lock($1)", ROTATION_LOCK_ID)
        assert await rotate_if_due(keys_conn, s) is False
        assert await _statuses(keys_conn) == []
        await other_replica.execute("SELECT pg_advisory_unlock($1)", ROTATION_LOCK_ID)
        assert await rotate_if_due(keys_conn, s) is True
    finally:
        await other_replica.close()


@pytest.mark.parametrize("step", [rotate_if_due, ensure_active_key], ids=["rotate_if_due", "ensure_active_key"])
async def test_replicas_starting_together_make_exactly_one_key_per_algorithm(keys_settings, s, step):
    conns = [await connect(keys_settings) for _ in range(4)]
    try:
        await asyncio.gather(*(step(conn, s) for conn in conns))
        for alg in ("ES256", "RS256"):
            assert [status for _, status in await _statuses(conns[0], alg)] == ["active"], alg
        assert await _statuses(conns[0], "EdDSA") == []  # not configured: no key
    finally:
        for conn in conns:
            await conn.close()


async def test_two_first_starts_racing_each_other_activate_one_key_per_algorithm(keys_settings, s):
    """`latchkey keys rotate` takes no advisory lock: the table lock decides who goes first.
    A third connection holds that lock until both are waiting for it."""
    blocker, *conns = [await connect(keys_settings) for _ in range(3)]
    try:
        holding = blocker.transaction()
        await holding.start()
        await blocker.execute("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
        racing = asyncio.gather(*(add_keys(conn, s, ["ES256", "RS256"]) for conn in conns))
        await asyncio.sleep(1.0)  # both have generated their keys and wait for the lock
        await holding.commit()
        added = await asyncio.wait_for(racing, timeout=10)
        assert sorted(k.status for batch in added for k in batch) == ["active", "active", "next", "next"]
        for alg in ("ES256", "RS256"):
            assert sorted(status for _, status in await _statuses(conns[0], alg)) == ["active", "next"], alg
    finally:
        for conn in (blocker, *conns):
            await conn.close()


async def test_ensure_active_key_keeps_an_existing_key(keys_conn, s):
    first = await create_key(keys_conn, s)
    await ensure_active_key(keys_conn, s)
    assert await _statuses(keys_conn) == [(first.kid, "active")]
    assert [status for _, status in await _statuses(keys_conn, "RS256")] == ["next"]  # the missing one, announced


async def test_a_key_of_an_algorithm_no_longer_configured_keeps_rotating(keys_conn, s):
    """A client registered for EdDSA ID tokens keeps getting them after the defaults change."""
    t0 = datetime.now(UTC) - 3 * DAY
    eddsa = await create_key(keys_conn, s, t0, "EdDSA")
    assert await rotate_if_due(keys_conn, s, t0 + DAY) is True
    statuses = await _statuses(keys_conn, "EdDSA")
    assert [status for _, status in statuses] == ["active", "next"] and statuses[0][0] == eddsa.kid


async def test_rotation_interval_zero_promotes_but_never_announces(keys_conn, s):
    s = dataclasses.replace(s, key_rotation_interval=0)
    t0 = datetime.now(UTC) - 400 * DAY
    await add_keys(keys_conn, s, ["ES256", "RS256"], t0)
    assert await rotate_if_due(keys_conn, s) is False
    new = await create_key(keys_conn, s, t0)
    assert await rotate_if_due(keys_conn, s) is True
    assert present(await PgSigningKeys(keys_conn).active("ES256")).kid == new.kid
    assert len(await PgSigningKeys(keys_conn).all()) == 3
