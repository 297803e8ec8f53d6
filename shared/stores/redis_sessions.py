"""Login sessions in Redis behind an opaque cookie (OWASP Session Management, RFC 9700 §4.1).

Keys hold the SHA-256 of the session id, so a Redis dump does not hand out live cookies.
A session has an absolute lifetime from login; a login always starts a new id.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from redis.asyncio import Redis

from shared.crypto.digests import new_secret, sha256_hex


@dataclass(frozen=True, slots=True)
class Session:
    user_id: str
    username: str
    auth_time: int  # epoch seconds of the login (OIDC Core §2 auth_time)
    csrf: str  # guards forms that act on the session itself (logout)


class RedisSessions:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}session:{sha256_hex(session_id)}"

    def key(self, session_id: str) -> str:
        """The Redis key, for a store that reads it in the same round trip as its own."""
        return self._key(session_id)

    @staticmethod
    def parse(raw: bytes | str | None) -> Session | None:
        return Session(**json.loads(raw)) if raw else None

    async def get(self, session_id: str) -> Session | None:
        return self.parse(await self._redis.get(self._key(session_id)))

    async def start(self, session: Session, ttl: int, *, replacing: str | None = None) -> str:
        """Stores ``session`` under a fresh id and drops ``replacing`` (no session fixation)."""
        session_id = new_secret(32)
        async with self._redis.pipeline(transaction=True) as pipe:
            if replacing:
                pipe.delete(self._key(replacing))
            pipe.set(self._key(session_id), json.dumps(asdict(session), separators=(",", ":")), ex=ttl, nx=True)
            await pipe.execute()
        return session_id

    async def end(self, session_id: str) -> None:
        await self._redis.delete(self._key(session_id))
