"""Removing what a test run or benchmark wrote under its private Redis key prefix."""

from __future__ import annotations

from redis.asyncio import Redis

BATCH = 10_000  # SCAN walks the whole keyspace: few, large steps on a shared Redis


async def delete_prefix(redis: Redis, prefix: str) -> None:
    keys = [k async for k in redis.scan_iter(match=f"{prefix}*", count=BATCH)]
    for start in range(0, len(keys), BATCH):
        await redis.delete(*keys[start:start + BATCH])
