"""The users /userinfo describes, cached per user for a few seconds (issue 9 §5).

Every /userinfo call needs the user's current claims and whether the account is still enabled
(OpenID Connect Core §5.3). Asking PostgreSQL each time ties the endpoint to the pool's speed,
not the verifier's, and a user rarely changes between two calls seconds apart. So each answer
(a profile, or "no such user") is reused for LATCHKEY_USERINFO_CACHE_SECONDS, at most 5: a user
disabled or deleted in the database is refused by every replica within that time, whatever made
the change; nothing has to announce it, so no lost message can keep a disabled user in.

Entries are keyed by the user id parsed from the token's verified subject, and a profile is
stored only under its own id. At most LATCHKEY_USERINFO_CACHE_SIZE users are kept; every entry
lives equally long, so the first inserted is the first to expire, and it is the one evicted.
Concurrent misses for one user share one query, and an entry past half its lifetime is
refreshed in the background while it still serves: a user whose token is in use keeps a fresh
entry, and no request waits for PostgreSQL (under load a query that queues for the pool would
otherwise hold up every request for that user at once, each time the entry expired).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol
from uuid import UUID

from shared.models import UserProfile
from shared.stores.pg_users import parse_user_id


class ProfileSource(Protocol):
    async def get_profile(self, user_id: UUID) -> UserProfile | None: ...


class CachedProfiles:
    def __init__(self, source: ProfileSource, ttl_seconds: float, max_entries: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._source = source
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[UUID, tuple[float, UserProfile | None]] = {}  # id -> (asked at, profile)
        self._loading: dict[UUID, asyncio.Task[UserProfile | None]] = {}

    async def get(self, user_id: str) -> UserProfile | None:
        """The user's profile as of at most the cache lifetime ago; None for an unknown user."""
        if (uid := parse_user_id(user_id)) is None:
            return None
        if self._ttl <= 0:
            return await self._source.get_profile(uid)
        entry = self._entries.get(uid)
        if entry is not None:
            age = self._clock() - entry[0]
            if age < self._ttl:
                if age >= self._ttl / 2:
                    self._load_once(uid)  # in the background: a user in use never waits for a query
                return entry[1]
            del self._entries[uid]
        # Shielded: a request that goes away does not cancel the query others are waiting for.
        return await asyncio.shield(self._load_once(uid))

    def _load_once(self, uid: UUID) -> asyncio.Task[UserProfile | None]:
        task = self._loading.get(uid)
        if task is None:
            task = self._loading[uid] = asyncio.ensure_future(self._load(uid))
            task.add_done_callback(lambda done: self._loaded(uid, done))
        return task

    async def _load(self, uid: UUID) -> UserProfile | None:
        # Aged from before the query: the answer is at least this fresh, so a change committed
        # after this moment is seen once the entry is a lifetime old.
        asked_at = self._clock()
        profile = await self._source.get_profile(uid)
        if profile is not None and profile.id != uid:  # never another user's claims under this id
            raise RuntimeError("the user store answered for a different user id")
        self._entries.pop(uid, None)  # re-inserted last: the entries stay in order of age
        if len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[uid] = (asked_at, profile)
        return profile

    def _loaded(self, uid: UUID, task: asyncio.Task[UserProfile | None]) -> None:
        self._loading.pop(uid, None)
        if not task.cancelled():
            task.exception()  # retrieved here too, in case every waiter went away
