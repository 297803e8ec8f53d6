"""PgCodeRedemptions: exactly one exchange of a code is redeemed, also when concurrent exchanges
share one statement (RFC 6749 §4.1.2)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from shared.crypto.digests import new_secret, sha256_hex
from shared.models import CodeRedemption, NewRefreshToken, Redeemed
from shared.stores.pg_code_redemptions import PgCodeRedemptions
from tests.support.factories import make_client, make_user

SCOPE = ("openid", "offline_access", "notes:read")


@dataclasses.dataclass(frozen=True)
class Exchange:
    redemption: CodeRedemption
    first: NewRefreshToken


@pytest.fixture
async def redemptions(pool):
    store = PgCodeRedemptions(pool)
    yield store
    await store.close()


@pytest.fixture
async def owner(pool, settings) -> tuple[str, uuid.UUID]:
    user, client = await make_user(pool, settings), await make_client(pool)
    return client.client_id, user.id


def an_exchange(owner: tuple[str, uuid.UUID], code: str | None = None, *, sid: str | None = "s-1") -> Exchange:
    client_id, user_id = owner
    now, jti, grant_id = datetime.now(UTC), new_secret(16), str(uuid.uuid4())
    code_hash = sha256_hex(code or new_secret())
    return Exchange(
        CodeRedemption(code_hash=code_hash, grant_id=grant_id, client_id=client_id, access_jti=jti,
                       access_expires_at=now + timedelta(minutes=10), expires_at=now + timedelta(minutes=15)),
        NewRefreshToken(token_hash=sha256_hex(new_secret()), family_id=uuid.UUID(grant_id), client_id=client_id,
                        user_id=user_id, scope=SCOPE, resource="https://api.example",
                        auth_time=now - timedelta(seconds=5),
                        expires_at=now + timedelta(days=7), family_expires_at=now + timedelta(days=30),
                        access_jti=jti, access_expires_at=now + timedelta(minutes=10), sid=sid))


async def stored_token(pool, first: NewRefreshToken) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT * FROM refresh_tokens WHERE token_hash = $1", first.token_hash)


async def test_concurrent_exchanges_each_get_their_own_answer_and_token(redemptions, pool, owner):
    exchanges = [an_exchange(owner, sid=None if i % 2 else f"s-{i}") for i in range(24)]
    issuing, checking = exchanges[:12], exchanges[12:]
    answers = await asyncio.gather(
        *(redemptions.redeem_issuing(e.redemption, e.first) for e in issuing),
        *(redemptions.redeem_checking_user(e.redemption, owner[1]) for e in checking))
    assert answers == [Redeemed(True, True)] * 24
    for e in issuing:
        row = await stored_token(pool, e.first)
        assert row is not None
        assert (tuple(row["scope"]), row["family_id"], row["user_id"], row["client_id"], row["sid"], row["resource"],
                row["access_jti"], row["parent_id"]) == (
            SCOPE, e.first.family_id, e.first.user_id, e.first.client_id, e.first.sid, e.first.resource,
            e.first.access_jti, None)
        assert row["expires_at"] == e.first.expires_at and row["auth_time"] == e.first.auth_time
    for e in checking:
        assert await stored_token(pool, e.first) is None
    stored = await pool.fetch("SELECT code_hash, access_jti FROM code_redemptions WHERE code_hash = any($1::text[])",
                              [e.redemption.code_hash for e in exchanges])
    assert {(r["code_hash"], r["access_jti"]) for r in stored} == {
        (e.redemption.code_hash, e.redemption.access_jti) for e in exchanges}


async def test_one_code_exchanged_concurrently_is_redeemed_once(redemptions, pool, owner):
    """Redis gave one code out several times (it lost the GETDEL): the exchanges may share a statement."""
    code = new_secret()
    exchanges = [an_exchange(owner, code) for _ in range(6)]
    answers = await asyncio.gather(*(redemptions.redeem_issuing(e.redemption, e.first) for e in exchanges))
    assert sum(a.redeemed for a in answers) == 1
    winner = exchanges[[a.redeemed for a in answers].index(True)]
    assert await pool.fetchval("SELECT access_jti FROM code_redemptions WHERE code_hash = $1",
                               sha256_hex(code)) == winner.redemption.access_jti
    stored = [e for e in exchanges if await stored_token(pool, e.first) is not None]
    assert stored == [winner]
    again = an_exchange(owner, code)
    assert not (await redemptions.redeem_checking_user(again.redemption, owner[1])).redeemed


async def test_a_disabled_or_unknown_user_is_redeemed_without_a_token(redemptions, pool, settings, owner):
    disabled = await make_user(pool, settings)
    await pool.execute("UPDATE users SET disabled = true WHERE id = $1", disabled.id)
    enabled, of_disabled = an_exchange(owner), an_exchange((owner[0], disabled.id))
    unknown = an_exchange(owner)
    answers = await asyncio.gather(redemptions.redeem_issuing(enabled.redemption, enabled.first),
                                   redemptions.redeem_issuing(of_disabled.redemption, of_disabled.first),
                                   redemptions.redeem_checking_user(unknown.redemption, None))
    assert list(answers) == [Redeemed(True, True), Redeemed(True, False), Redeemed(True, False)]
    assert await stored_token(pool, enabled.first) is not None
    assert await stored_token(pool, of_disabled.first) is None


async def test_an_exchange_the_database_refuses_fails_alone(redemptions, pool, owner):
    """One row breaking a constraint fails the shared statement; the others are redeemed all the same."""
    good, clash = an_exchange(owner), an_exchange(owner)
    clash = dataclasses.replace(clash, first=dataclasses.replace(clash.first, token_hash=good.first.token_hash))
    others = [an_exchange(owner) for _ in range(4)]
    answers = await asyncio.gather(*(redemptions.redeem_issuing(e.redemption, e.first)
                                     for e in (good, clash, *others)), return_exceptions=True)
    assert isinstance(answers[1], asyncpg.UniqueViolationError)
    assert [a for i, a in enumerate(answers) if i != 1] == [Redeemed(True, True)] * 5
    assert await pool.fetchval("SELECT count(*) FROM code_redemptions WHERE code_hash = $1",
                               clash.redemption.code_hash) == 0  # nothing of it half-written


async def test_a_locked_client_holds_up_only_its_own_exchange(redemptions, pool, settings, owner):
    """An administrator's transaction holds a client row (FOR UPDATE, as management changes do):
    that client's exchange waits for it, and the exchanges of other clients, in the same batch or
    after it, do not."""
    other = (await make_client(pool)).client_id
    locked = an_exchange(owner)
    async with pool.acquire() as admin, admin.transaction():
        await admin.execute("SELECT 1 FROM clients WHERE client_id = $1 FOR UPDATE", owner[0])
        waiting = asyncio.create_task(redemptions.redeem_issuing(locked.redemption, locked.first))
        same_batch = [an_exchange((other, owner[1])) for _ in range(3)]
        answers = await asyncio.wait_for(asyncio.gather(
            *(redemptions.redeem_issuing(e.redemption, e.first) for e in same_batch)), timeout=2)
        assert list(answers) == [Redeemed(True, True)] * 3
        later = an_exchange((other, owner[1]))
        assert await asyncio.wait_for(redemptions.redeem_issuing(later.redemption, later.first), timeout=2) == \
            Redeemed(True, True)
        await asyncio.sleep(0.3)
        assert not waiting.done()
    assert await asyncio.wait_for(waiting, timeout=5) == Redeemed(True, True)
    assert await stored_token(pool, locked.first) is not None


async def test_a_code_another_transaction_is_redeeming_holds_up_only_its_own_exchange(redemptions, pool, owner):
    """Another replica's redemption of the same code, not yet committed: the lock wait on its row
    is bounded like any other in a shared statement, so unrelated exchanges go on."""
    replayed = an_exchange(owner)
    r = replayed.redemption
    async with pool.acquire() as other:
        transaction = other.transaction()
        await transaction.start()
        await other.execute(
            """INSERT INTO code_redemptions (code_hash, grant_id, client_id, access_jti, access_expires_at, expires_at)
               VALUES ($1, $2, $3, 'other', $4, $5)""", r.code_hash, r.grant_id, r.client_id, r.access_expires_at,
            r.expires_at)
        waiting = asyncio.create_task(redemptions.redeem_checking_user(r, owner[1]))
        unrelated = [an_exchange(owner) for _ in range(2)]
        answers = await asyncio.wait_for(asyncio.gather(
            *(redemptions.redeem_issuing(e.redemption, e.first) for e in unrelated)), timeout=2)
        assert list(answers) == [Redeemed(True, True)] * 2
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await transaction.rollback()
    assert await asyncio.wait_for(waiting, timeout=5) == Redeemed(True, True)
