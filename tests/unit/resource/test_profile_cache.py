"""The /userinfo claims cache (issue 9 §5): short-lived, bounded, per user, one query per miss."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

import pytest

from services.resource.profiles import CachedProfiles
from shared.models import UserProfile
from tests.support.typed import present


def profile(uid: UUID, *, disabled: bool = False) -> UserProfile:
    return UserProfile(id=uid, username=f"u{uid.hex[:6]}", email=None, email_verified=False, name=None,
                       disabled=disabled)


class Users:
    """A user table in memory that counts the queries it answers."""

    def __init__(self, *uids: UUID) -> None:
        self.rows = {uid: profile(uid) for uid in uids}
        self.queries: list[UUID] = []
        self.gate: asyncio.Event | None = None  # set: queries wait for it

    async def get_profile(self, user_id: UUID) -> UserProfile | None:
        self.queries.append(user_id)
        if self.gate is not None:
            await self.gate.wait()
        return self.rows.get(user_id)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


A, B = uuid4(), uuid4()


async def test_a_hit_within_the_lifetime_asks_nothing_and_a_change_shows_after_it():
    users, clock = Users(A), Clock()
    cache = CachedProfiles(users, ttl_seconds=3, max_entries=10, clock=clock)
    assert present(await cache.get(str(A))).disabled is False
    users.rows[A] = profile(A, disabled=True)
    clock.now += 1.4
    assert present(await cache.get(str(A))).disabled is False  # still within the lifetime
    assert users.queries == [A]
    clock.now += 1.6
    assert present(await cache.get(str(A))).disabled is True
    assert users.queries == [A, A]


async def test_an_entry_in_use_is_refreshed_in_the_background_before_it_expires():
    users, clock = Users(A), Clock()
    cache = CachedProfiles(users, ttl_seconds=3, max_entries=10, clock=clock)
    await cache.get(str(A))
    users.rows[A] = profile(A, disabled=True)
    users.gate = asyncio.Event()  # the refresh query hangs until released
    clock.now += 2.0
    assert present(await cache.get(str(A))).disabled is False  # answered at once, refresh started
    assert present(await cache.get(str(A))).disabled is False  # one refresh in flight, not two
    users.gate.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    clock.now += 0.5
    assert present(await cache.get(str(A))).disabled is True
    assert users.queries == [A, A]


async def test_an_entry_is_never_served_a_lifetime_after_its_query_even_while_refreshing():
    users, clock = Users(A), Clock()
    cache = CachedProfiles(users, ttl_seconds=3, max_entries=10, clock=clock)
    await cache.get(str(A))
    users.rows[A] = profile(A, disabled=True)
    users.gate = asyncio.Event()
    clock.now += 2.0
    await cache.get(str(A))  # starts a refresh that does not finish
    clock.now += 1.0
    waiting = asyncio.ensure_future(cache.get(str(A)))
    await asyncio.sleep(0)
    assert not waiting.done()  # expired: waits for the query rather than answer from the old entry
    users.gate.set()
    assert present(await waiting).disabled is True


async def test_each_user_gets_their_own_profile_whatever_the_spelling_of_the_id():
    users = Users(A, B)
    cache = CachedProfiles(users, ttl_seconds=3, max_entries=10, clock=Clock())
    for _ in range(2):
        assert present(await cache.get(str(A))).id == A
        assert present(await cache.get(str(B).upper())).id == B
        assert present(await cache.get(str(B))).id == B
    assert users.queries == [A, B]


async def test_an_unknown_user_is_remembered_as_unknown_and_a_malformed_id_asks_nothing():
    users, unknown = Users(), uuid4()
    cache = CachedProfiles(users, ttl_seconds=3, max_entries=10, clock=Clock())
    assert await cache.get(str(unknown)) is None
    assert await cache.get(str(unknown)) is None
    assert await cache.get("not-a-uuid") is None
    assert users.queries == [unknown]


async def test_concurrent_misses_for_one_user_share_one_query():
    users = Users(A, B)
    users.gate = asyncio.Event()
    cache = CachedProfiles(users, ttl_seconds=3, max_entries=10, clock=Clock())
    waiting = [asyncio.ensure_future(cache.get(str(uid))) for uid in (A, B) * 10]
    await asyncio.sleep(0)
    users.gate.set()
    answers = await asyncio.gather(*waiting)
    assert [present(p).id for p in answers] == [A, B] * 10
    assert sorted(users.queries) == sorted([A, B])


async def test_a_waiter_that_goes_away_does_not_cancel_the_query_of_the_others():
    users = Users(A)
    users.gate = asyncio.Event()
    cache = CachedProfiles(users, ttl_seconds=3, max_entries=10, clock=Clock())
    first, second = asyncio.ensure_future(cache.get(str(A))), asyncio.ensure_future(cache.get(str(A)))
    await asyncio.sleep(0)
    first.cancel()
    users.gate.set()
    assert present(await second).id == A


async def test_a_failed_query_reaches_every_waiter_and_is_not_cached():
    class Down(Users):
        async def get_profile(self, user_id: UUID) -> UserProfile | None:
            self.queries.append(user_id)
            raise ConnectionError("database down")

    users = Down(A)
    cache = CachedProfiles(users, ttl_seconds=3, max_entries=10, clock=Clock())
    results = await asyncio.gather(cache.get(str(A)), cache.get(str(A)), return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError, ConnectionError]
    with pytest.raises(ConnectionError):
        await cache.get(str(A))
    assert users.queries == [A, A]


async def test_the_cache_holds_at_most_max_entries_evicting_the_oldest():
    uids = [uuid4() for _ in range(4)]
    users = Users(*uids)
    cache = CachedProfiles(users, ttl_seconds=3, max_entries=3, clock=Clock())
    for uid in uids:
        await cache.get(str(uid))
    for uid in uids[1:]:  # the three newest are still cached
        await cache.get(str(uid))
    assert users.queries == uids
    await cache.get(str(uids[0]))  # the oldest was evicted
    assert users.queries == [*uids, uids[0]]


async def test_a_lifetime_of_zero_asks_every_time():
    users = Users(A)
    cache = CachedProfiles(users, ttl_seconds=0, max_entries=10, clock=Clock())
    await cache.get(str(A))
    await cache.get(str(A))
    assert users.queries == [A, A]
