"""Revoked access-token ids (jti), each kept exactly as long as its token would live."""

from __future__ import annotations

from datetime import datetime, timezone

from redis.asyncio import Redis


class RedisDenylist:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, jti: str) -> str:
        return f"{self._prefix}revoked-jti:{jti}"

    async def add(self, jti: str, expires_at: datetime) -> None:
        if expires_at <= datetime.now(timezone.utc):
            return  # already dead; nothing to remember
        await self._redis.set(self._key(jti), b"1", exat=int(expires_at.timestamp()) + 1)

    async def add_many(self, entries: list[tuple[str, datetime]]) -> None:
        live = [(j, e) for j, e in entries if e > datetime.now(timezone.utc)]
        if not live:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for jti, expires_at in live:
                pipe.set(self._key(jti), b"1", exat=int(expires_at.timestamp()) + 1)
            await pipe.execute()

    async def contains(self, jti: str) -> bool:
        return bool(await self._redis.exists(self._key(jti)))

    async def contains_many(self, jtis: list[str]) -> list[bool]:
        """One round trip for many ids (the bearer verifier batches concurrent checks)."""
        values = await self._redis.mget([self._key(jti) for jti in jtis])
        return [value is not None for value in values]
