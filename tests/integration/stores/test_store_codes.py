"""RedisCodeStore: single-use codes under a hash, with a TTL and a "used" marker (RFC 6749 §4.1.2)."""

from __future__ import annotations

import asyncio

import pytest

from shared.crypto.digests import new_secret
from shared.models import AuthorizationGrant, CodeUse
from shared.stores.redis_codes import RedisCodeStore

REPLAY_WINDOW = 900


def grant(**changes) -> AuthorizationGrant:
    values = dict(client_id="lk_client", redirect_uri="https://app.example/cb", scope=("openid", "email"),
                  user_id="0b9f7a4e-3f0e-4c55-9a8a-5b8d1f1e2c3d", auth_time=1_700_000_000, nonce="n-0S6_WzA2Mj",
                  code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method="S256",
                  resource="https://api.example", grant_id="grant-1")
    return AuthorizationGrant(**{**values, **changes})


def use(n: int = 0) -> CodeUse:
    return CodeUse(grant_id="grant-1", access_jti=f"jti-{n}", access_expires_at=1_700_000_600)


@pytest.fixture
def codes(redis, prefix) -> RedisCodeStore:
    return RedisCodeStore(redis, prefix)


async def _keys(redis, prefix: str) -> list[str]:
    # A large COUNT: SCAN walks the whole keyspace, which other runs on a shared Redis may fill.
    return sorted([k.decode() async for k in redis.scan_iter(match=f"{prefix}*", count=10_000)])


async def test_save_stores_under_a_hash_with_the_ttl(codes, redis, prefix):
    code = new_secret()
    await codes.save(code, grant(), ttl=60)
    [key] = await _keys(redis, prefix)
    assert key.startswith(f"{prefix}code:") and code not in key
    assert code.encode() not in await redis.get(key)
    assert 58 <= await redis.ttl(key) <= 60
    assert 58 <= await codes.ttl(code) <= 60


async def test_consume_returns_the_grant_once(codes):
    code, saved = new_secret(), grant(nonce=None, resource=None)
    await codes.save(code, saved, ttl=60)
    assert await codes.consume(code, use(), REPLAY_WINDOW) == saved
    assert await codes.consume(code, use(1), REPLAY_WINDOW) is None
    assert await codes.ttl(code) == -2


async def test_consuming_leaves_a_used_marker_for_replay_detection(codes, redis, prefix):
    code = new_secret()
    assert await codes.find_use(code) is None
    await codes.save(code, grant(), ttl=60)
    await codes.consume(code, use(7), REPLAY_WINDOW)
    assert await codes.find_use(code) == use(7)
    [marker] = await _keys(redis, prefix)
    assert marker.startswith(f"{prefix}code-used:") and code not in marker
    assert REPLAY_WINDOW - 2 <= await redis.ttl(marker) <= REPLAY_WINDOW
    # A replay does not overwrite what the first redemption recorded.
    await codes.consume(code, use(8), REPLAY_WINDOW)
    assert await codes.find_use(code) == use(7)


async def test_twenty_concurrent_consumes_return_the_grant_to_exactly_one(codes):
    code = new_secret()
    await codes.save(code, grant(), ttl=60)
    results = await asyncio.gather(*(codes.consume(code, use(n), REPLAY_WINDOW) for n in range(20)))
    winners = [n for n, r in enumerate(results) if r is not None]
    assert len(winners) == 1 and results[winners[0]] == grant()
    assert await codes.find_use(code) == use(winners[0])


async def test_an_expired_code_is_gone(codes, redis, prefix):
    code = new_secret()
    await codes.save(code, grant(), ttl=1)
    await asyncio.sleep(1.3)
    assert await codes.consume(code, use(), REPLAY_WINDOW) is None
    assert await codes.find_use(code) is None
    assert await _keys(redis, prefix) == []


@pytest.mark.parametrize("garbage", ["garbage", "", "x" * 5000, "code:*"], ids=["word", "empty", "huge", "glob"])
async def test_an_unknown_code_leaves_no_marker(codes, redis, prefix, garbage):
    await codes.save(new_secret(), grant(), ttl=60)
    assert await codes.consume(garbage, use(), REPLAY_WINDOW) is None
    assert await codes.find_use(garbage) is None
    assert [k for k in await _keys(redis, prefix) if "code-used:" in k] == []


async def test_saving_the_same_code_twice_keeps_the_first_grant(codes):
    code = new_secret()
    await codes.save(code, grant(), ttl=60)
    with pytest.raises(RuntimeError):
        await codes.save(code, grant(client_id="lk_attacker"), ttl=60)
    assert (await codes.consume(code, use(), REPLAY_WINDOW)).client_id == "lk_client"


async def test_the_marker_names_the_grant_the_code_belonged_to(codes):
    # The token service cannot know the grant id before consuming; the store records it.
    code = new_secret()
    await codes.save(code, grant(grant_id=""), ttl=60)
    consumed = await codes.consume(code, CodeUse(grant_id="", access_jti="jti-9", access_expires_at=1), 60)
    assert consumed.grant_id
    assert await codes.find_use(code) == CodeUse(grant_id=consumed.grant_id, access_jti="jti-9", access_expires_at=1)


async def test_save_taking_saves_the_code_and_removes_the_transaction(codes, redis, prefix):
    code, tx_key = new_secret(), f"{prefix}authz-tx:one"
    await redis.set(tx_key, "{}", ex=60)
    assert await codes.save_taking(code, grant(), ttl=60, taking=tx_key) is True
    assert await redis.exists(tx_key) == 0
    assert 58 <= await codes.ttl(code) <= 60
    assert await codes.consume(code, use(), REPLAY_WINDOW) == grant()


async def test_save_taking_saves_nothing_when_the_transaction_is_gone(codes, redis, prefix):
    code = new_secret()
    assert await codes.save_taking(code, grant(), ttl=60, taking=f"{prefix}authz-tx:gone") is False
    assert await _keys(redis, prefix) == []


async def test_twenty_concurrent_save_takings_of_one_transaction_save_one_code(codes, redis, prefix):
    tx_key = f"{prefix}authz-tx:raced"
    await redis.set(tx_key, "{}", ex=60)
    attempts = [new_secret() for _ in range(20)]
    results = await asyncio.gather(*(codes.save_taking(c, grant(), ttl=60, taking=tx_key) for c in attempts))
    assert results.count(True) == 1
    assert [await codes.ttl(c) > 0 for c in attempts] == results


async def test_save_taking_a_colliding_code_keeps_both_grant_and_transaction(codes, redis, prefix):
    code, tx_key = new_secret(), f"{prefix}authz-tx:kept"
    await codes.save(code, grant(), ttl=60)
    await redis.set(tx_key, "{}", ex=60)
    with pytest.raises(RuntimeError):
        await codes.save_taking(code, grant(client_id="lk_attacker"), ttl=60, taking=tx_key)
    assert await redis.exists(tx_key) == 1
    assert (await codes.consume(code, use(), REPLAY_WINDOW)).client_id == "lk_client"


async def test_save_taking_gives_a_grant_without_id_one(codes, redis, prefix):
    code, tx_key = new_secret(), f"{prefix}authz-tx:id"
    await redis.set(tx_key, "{}", ex=60)
    await codes.save_taking(code, grant(grant_id=""), ttl=60, taking=tx_key)
    assert (await codes.consume(code, use(), REPLAY_WINDOW)).grant_id
