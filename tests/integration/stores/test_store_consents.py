"""PgConsents: remembered consent grows by union until revoked (OIDC Core §3.1.2.4)."""

from __future__ import annotations

from shared.stores.pg_consents import PgConsents
from tests.support.factories import make_client, make_user


async def _pair(pool, settings):
    return await make_user(pool, settings), await make_client(pool)


async def test_nothing_granted_is_empty(pool, settings):
    user, client = await _pair(pool, settings)
    assert await PgConsents(pool).granted_scopes(user.id, client.client_id) == frozenset()


async def test_grants_accumulate_as_a_union(pool, settings):
    user, client = await _pair(pool, settings)
    consents = PgConsents(pool)
    steps = [
        ({"openid", "profile"}, {"openid", "profile"}),
        ({"email"}, {"openid", "profile", "email"}),
        ({"openid"}, {"openid", "profile", "email"}),
        ({"profile", "offline_access"}, {"openid", "profile", "email", "offline_access"}),
    ]
    for granted, expected in steps:
        await consents.grant(user.id, client.client_id, frozenset(granted))
        assert await consents.granted_scopes(str(user.id), client.client_id) == frozenset(expected)
    stored = await pool.fetchval("SELECT scopes FROM consents WHERE user_id = $1 AND client_id = $2",
                                 user.id, client.client_id)
    assert stored == sorted(expected)  # one row, no duplicates


async def test_revoke_forgets_everything_for_that_client_only(pool, settings):
    user, client = await _pair(pool, settings)
    other = await make_client(pool)
    consents = PgConsents(pool)
    await consents.grant(user.id, client.client_id, frozenset({"openid", "email"}))
    await consents.grant(user.id, other.client_id, frozenset({"openid"}))
    await consents.revoke(user.id, client.client_id)
    assert await consents.granted_scopes(user.id, client.client_id) == frozenset()
    assert await consents.granted_scopes(user.id, other.client_id) == frozenset({"openid"})
    await consents.grant(user.id, client.client_id, frozenset({"profile"}))
    assert await consents.granted_scopes(user.id, client.client_id) == frozenset({"profile"})
