"""RedisDenylist: revoked access-token ids, each kept as long as its token lives (RFC 7009 §2.2)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from shared.stores.redis_denylist import RedisDenylist


@pytest.fixture
def denylist(redis, prefix) -> RedisDenylist:
    return RedisDenylist(redis, prefix)


def _in(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def test_added_jti_is_contained_until_its_token_expires(denylist, redis, prefix):
    await denylist.add("jti-live", _in(600))
    assert await denylist.contains("jti-live") is True
    assert await denylist.contains("jti-other") is False
    assert 599 <= await redis.ttl(f"{prefix}revoked-jti:jti-live") <= 602


async def test_entry_disappears_after_the_token_expiry(denylist):
    await denylist.add("jti-short", _in(1))
    assert await denylist.contains("jti-short") is True
    for _ in range(40):  # the entry outlives the token by at most ~2 s (whole-second expiry + 1)
        if not await denylist.contains("jti-short"):
            break
        await asyncio.sleep(0.1)
    assert await denylist.contains("jti-short") is False


async def test_an_already_expired_token_is_not_stored(denylist, redis, prefix):
    await denylist.add("jti-dead", _in(-5))
    assert await denylist.contains("jti-dead") is False
    assert await redis.exists(f"{prefix}revoked-jti:jti-dead") == 0


async def test_add_many_stores_only_the_live_ones(denylist):
    await denylist.add_many([("jti-a", _in(300)), ("jti-b", _in(-1)), ("jti-c", _in(60))])
    assert [await denylist.contains(j) for j in ("jti-a", "jti-b", "jti-c")] == [True, False, True]
    await denylist.add_many([])
    await denylist.add_many([("jti-d", _in(-1))])
    assert await denylist.contains("jti-d") is False


@pytest.mark.parametrize("expired_seconds_ago, kept", [(5, True), (29, True), (40, False)],
                         ids=["just expired", "at the end of the leeway", "past the leeway"])
async def test_an_entry_outlives_its_token_by_the_clock_leeway(redis, prefix, expired_seconds_ago, kept):
    # A verifier accepts a token until exp + leeway, so a revocation in that window must stick.
    denylist = RedisDenylist(redis, prefix, leeway=30)
    await denylist.add_many([("jti-leeway", _in(-expired_seconds_ago))])
    assert await denylist.contains("jti-leeway") is kept
    if kept:
        ttl = await redis.ttl(f"{prefix}revoked-jti:jti-leeway")
        assert 30 - expired_seconds_ago - 1 <= ttl <= 32 - expired_seconds_ago
    await redis.delete(f"{prefix}revoked-jti:jti-leeway")
