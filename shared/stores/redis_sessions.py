"""Login sessions in Redis behind an opaque cookie (OWASP Session Management, RFC 9700 §4.1).

Keys hold the SHA-256 of the session id, so a Redis dump does not hand out live cookies.
A session has an absolute lifetime from login; a login always starts a new id.

Each session also has the set of clients that received a code in it, under its ``sid`` and
living as long as the session: who to tell when it ends (Back-Channel Logout §2.7).

Each user has an index of their sessions' key digests (a set living as long as their newest
session), so disabling or deleting a user ends every session they have. A member whose session
ended or expired is harmless: deleting a missing key does nothing, and ``of_user`` skips it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Iterable
from dataclasses import asdict, dataclass
from typing import cast

from redis.asyncio import Redis

from shared import compact_json
from shared.crypto.digests import new_secret, sha256_hex


@dataclass(frozen=True, slots=True)
class Session:
    user_id: str
    username: str
    auth_time: int  # epoch seconds of the login (OIDC Core §2 auth_time)
    csrf: str  # guards forms that act on the session itself (logout)
    # OIDC Back-Channel Logout §2.1 / Front-Channel §3: the id relying parties know the session
    # by. Not the cookie value (that would hand them the browser's credential); "" in a session
    # stored before sids existed.
    sid: str = ""


class RedisSessions:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, session_id: str) -> str:
        return self._key_of_digest(sha256_hex(session_id))

    def _key_of_digest(self, digest: str) -> str:
        return f"{self._prefix}session:{digest}"

    def _index(self, user_id: str) -> str:
        return f"{self._prefix}user-sessions:{user_id}"

    def _clients(self, sid: str) -> str:
        return f"{self._prefix}session-clients:{sid}"

    @staticmethod
    def digest(session_id: str) -> str:
        """What keys and the user's index know a session by (listed_of_user, end_of_user)."""
        return sha256_hex(session_id)

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
            pipe.set(self._key(session_id), compact_json.dumps(asdict(session)), ex=ttl, nx=True)
            pipe.sadd(self._index(session.user_id), sha256_hex(session_id))
            pipe.expire(self._index(session.user_id), ttl)
            if session.sid:  # a session signed in to again keeps its sid: its clients live as long
                pipe.expire(self._clients(session.sid), ttl)
            await pipe.execute()
        return session_id

    async def of_user(self, user_id: str) -> list[Session]:
        """The user's live sessions (for an account page)."""
        digests = sorted(await self._members(self._index(user_id)))
        if not digests:
            return []
        values = await self._redis.mget([self._key_of_digest(d) for d in digests])
        return [s for raw in values if (s := self.parse(raw)) is not None and s.user_id == user_id]

    async def listed_of_user(self, user_id: str) -> list[tuple[str, Session]]:
        """As ``of_user``, each with its key digest: the handle an account page ends it by (a
        digest, not the cookie value, so the page never shows a credential)."""
        digests = sorted(await self._members(self._index(user_id)))
        if not digests:
            return []
        values = await self._redis.mget([self._key_of_digest(d) for d in digests])
        return [(d, s) for d, raw in zip(digests, values, strict=True)
                if (s := self.parse(raw)) is not None and s.user_id == user_id]

    async def end_of_user(self, user_id: str, digest: str) -> tuple[Session, frozenset[str]] | None:
        """Ends the session with key ``digest`` only if it is one of ``user_id``'s; returns it and
        the clients that got codes in it (who to tell), or None: not theirs, or already over."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.sismember(self._index(user_id), digest)
            pipe.get(self._key_of_digest(digest))
            member, raw = await pipe.execute()
        session = self.parse(raw)
        if not member or session is None or session.user_id != user_id:
            return None
        clients = await self.clients_of(session.sid) if session.sid else frozenset()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key_of_digest(digest))
            pipe.srem(self._index(user_id), digest)
            if session.sid:
                pipe.delete(self._clients(session.sid))
            deleted, *_ = await pipe.execute()
        return (session, clients) if deleted else None  # else a concurrent end got there first

    async def end_all_of_user(self, user_id: str) -> int:
        """Ends every session of the user (disabled or deleted); returns how many were live."""
        index = self._index(user_id)
        digests = await self._members(index)
        async with self._redis.pipeline(transaction=True) as pipe:
            for digest in digests:
                pipe.delete(self._key_of_digest(digest))
            pipe.delete(index)
            results = await pipe.execute()
        return sum(int(r) for r in results[:-1])

    async def record_client(self, sid: str, client_id: str, ttl: int) -> None:
        """The client got a code in session ``sid``; kept ``ttl`` seconds (the session's remaining life)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.sadd(self._clients(sid), client_id)
            pipe.expire(self._clients(sid), max(1, ttl))
            await pipe.execute()

    async def clients_of(self, sid: str) -> frozenset[str]:
        return frozenset(await self._members(self._clients(sid)))

    async def forget_clients(self, sid: str, client_ids: Iterable[str]) -> None:
        """These clients were told the session ended: a later logout need not tell them again."""
        if ids := list(client_ids):
            await cast("Awaitable[int]", self._redis.srem(self._clients(sid), *ids))  # see _members

    async def _members(self, key: str) -> list[str]:
        # redis-py 7 types set commands for its sync and asyncio clients at once ("a set, or an
        # awaitable of one"); on redis.asyncio they are always awaitable.
        members = await cast("Awaitable[set[bytes | str]]", self._redis.smembers(key))
        return [m.decode() if isinstance(m, bytes) else m for m in members]

    async def end(self, session_id: str, sid: str = "") -> None:
        """Ends the session; its client list goes with it (a logout reads that list first)."""
        keys = [self._key(session_id)] + ([self._clients(sid)] if sid else [])
        await self._redis.delete(*keys)
