"""Authorization transactions: the validated request while the user logs in and consents.

The browser carries only an opaque id; everything that decides the outcome stays here, so no
form field can be tampered with. Records are JSON objects the authorize service defines; each
lives at most the transaction TTL and is taken exactly once when the flow completes.
"""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from shared import compact_json
from shared.crypto.digests import new_secret, sha256_hex
from shared.stores.redis_sessions import RedisSessions, Session

Record = dict[str, Any]


def _dump(record: Record) -> str:
    return compact_json.dumps(record)


class RedisTransactions:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, tx_id: str) -> str:
        return f"{self._prefix}authz-tx:{sha256_hex(tx_id)}"

    def key(self, tx_id: str) -> str:
        """The Redis key, for a store that must take the transaction in its own atomic step."""
        return self._key(tx_id)

    async def create(self, record: Record, ttl: int) -> str:
        tx_id = new_secret(32)
        await self._redis.set(self._key(tx_id), _dump(record), ex=ttl, nx=True)
        return tx_id

    async def get(self, tx_id: str) -> Record | None:
        raw = await self._redis.get(self._key(tx_id))
        return json.loads(raw) if raw else None

    async def get_with_session(self, tx_id: str, sessions: RedisSessions,
                               session_id: str | None) -> tuple[Record | None, Session | None]:
        """The transaction and the browser's session in one round trip (MGET): consent needs both."""
        if session_id is None:
            return await self.get(tx_id), None
        raw, raw_session = await self._redis.mget(self._key(tx_id), sessions.key(session_id))
        return (json.loads(raw) if raw else None), sessions.parse(raw_session)

    async def replace(self, tx_id: str, record: Record) -> bool:
        """Updates a live transaction, keeping its expiry; False when it is already gone."""
        return bool(await self._redis.set(self._key(tx_id), _dump(record), xx=True, keepttl=True))

    async def take(self, tx_id: str) -> Record | None:
        """Removes and returns the transaction in one step: of two racing submits, one wins."""
        raw = await self._redis.getdel(self._key(tx_id))
        return json.loads(raw) if raw else None
