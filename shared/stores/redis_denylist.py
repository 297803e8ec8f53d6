"""Revoked access-token ids (jti), each kept exactly as long as a verifier could accept its token.

A bearer verifier accepts a token until exp + the clock leeway, so an entry lives that long
too; a token revoked inside the leeway window is still remembered (RFC 7009 §2.2). The key
format and the verifier's batched read live in ``shared.bearer.revocation``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from redis.asyncio import Redis

from shared.bearer.revocation import revoked_jti_key


class RedisDenylist:
    def __init__(self, redis: Redis, prefix: str, *, leeway: int = 0) -> None:
        self._redis = redis
        self._prefix = prefix
        self._leeway = leeway

    def _key(self, jti: str) -> str:
        return revoked_jti_key(self._prefix, jti)

    def _keep_until(self, expires_at: datetime) -> int:
        return int(expires_at.timestamp()) + self._leeway + 1

    def _live(self, entries: list[tuple[str, datetime]]) -> list[tuple[str, int]]:
        now = datetime.now(UTC).timestamp()
        return [(jti, until) for jti, expires_at in entries if (until := self._keep_until(expires_at)) > now]

    async def add(self, jti: str, expires_at: datetime) -> None:
        await self.add_many([(jti, expires_at)])

    async def add_many(self, entries: list[tuple[str, datetime]]) -> None:
        live = self._live(entries)  # a token no verifier can accept any more needs no entry
        if not live:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for jti, until in live:
                pipe.set(self._key(jti), b"1", exat=until)
            await pipe.execute()

    async def contains(self, jti: str) -> bool:
        return bool(await self._redis.exists(self._key(jti)))
