"""PgUsers over a real PostgreSQL: usernames unique case-insensitively."""

from __future__ import annotations

import secrets
import uuid

import pytest

from shared.stores.pg_users import DuplicateUsername, PgUsers


def _name() -> str:
    return f"Alice_{secrets.token_hex(4)}"


async def test_create_returns_the_stored_user(pool):
    username = _name()
    user = await PgUsers(pool).create(username, "$argon2id$v=19$m=8,t=1,p=1$x$y", email="a@example.com",
                                      name="Alice Example", email_verified=True)
    assert isinstance(user.id, uuid.UUID)
    assert (user.username, user.email, user.name, user.email_verified, user.disabled) == (
        username, "a@example.com", "Alice Example", True, False)
    assert await PgUsers(pool).get(user.id) == user
    assert await PgUsers(pool).get(str(user.id)) == user


@pytest.mark.parametrize("spelling", [str.lower, str.upper, str.swapcase], ids=["lower", "upper", "swapped"])
async def test_lookup_by_username_ignores_case(pool, spelling):
    username = _name()
    user = await PgUsers(pool).create(username, "hash")
    assert await PgUsers(pool).get_by_username(spelling(username)) == user


@pytest.mark.parametrize("spelling", [str, str.lower, str.upper], ids=["same", "lower", "upper"])
async def test_duplicate_username_is_refused_in_any_case(pool, spelling):
    username = _name()
    await PgUsers(pool).create(username, "hash")
    with pytest.raises(DuplicateUsername):
        await PgUsers(pool).create(spelling(username), "other hash")
    count = await pool.fetchval("SELECT count(*) FROM users WHERE lower(username) = lower($1)", username)
    assert count == 1


@pytest.mark.parametrize("user_id", [uuid.uuid4(), str(uuid.uuid4()), "not-a-uuid", ""],
                         ids=["unknown uuid", "unknown uuid string", "malformed", "empty"])
async def test_unknown_user_id_is_none(pool, user_id):
    assert await PgUsers(pool).get(user_id) is None
    assert await PgUsers(pool).is_enabled(user_id) is False


async def test_is_enabled_until_disabled(pool):
    user = await PgUsers(pool).create(_name(), "hash")
    assert await PgUsers(pool).is_enabled(user.id) is True
    assert await PgUsers(pool).is_enabled(str(user.id)) is True
    await pool.execute("UPDATE users SET disabled = true WHERE id = $1", user.id)
    assert await PgUsers(pool).is_enabled(user.id) is False


async def test_unknown_username_is_none(pool):
    assert await PgUsers(pool).get_by_username("nobody_" + secrets.token_hex(4)) is None
