"""Revoking a grant is idempotent (RFC 6749 §10.5, RFC 7009 §2.1, RFC 9700 §4.14.2).

Each case stands in for an earlier attempt that revoked the family in PostgreSQL and then
crashed before writing the denylist (a Redis error): the family is revoked through the store,
exactly as that attempt left it, and the revocation path is run again. It must denylist every
access token of the grant, not only those of rows it revoked itself.
"""

from __future__ import annotations

from typing import Any

import jwt

from shared.crypto.digests import sha256_hex
from shared.stores.pg_refresh_tokens import PgRefreshTokens
from shared.stores.redis_denylist import RedisDenylist
from tests.integration.token.helpers import error_of, exchange, issue_code, post_form, refresh


def jti(token: str) -> str:
    value: str = jwt.decode(token, options={"verify_signature": False})["jti"]
    return value


async def a_refreshed_grant(http, redis, settings, client, user) -> tuple[Any, ...]:
    """(issued code, first response, refreshed response): two access tokens in one grant."""
    issued = await issue_code(redis, settings, client, user)
    first = await (await exchange(http, client, issued)).json()
    refreshed = await (await refresh(http, client, first["refresh_token"])).json()
    return issued, first, refreshed


async def crashed_revocation(pool, refresh_token: str) -> None:
    family_id = await pool.fetchval("SELECT family_id FROM refresh_tokens WHERE token_hash = $1",
                                    sha256_hex(refresh_token))
    await PgRefreshTokens(pool).revoke_family(family_id)


async def denylisted(redis, settings, *responses: dict[str, Any]) -> list[bool]:
    denylist = RedisDenylist(redis, settings.redis_prefix)
    return [await denylist.contains(jti(r["access_token"])) for r in responses]


async def test_a_retried_refresh_reuse_denylists_the_grants_access_tokens(http, redis, settings, pool, app_client,
                                                                          user):
    _, first, refreshed = await a_refreshed_grant(http, redis, settings, app_client, user)
    await crashed_revocation(pool, first["refresh_token"])
    reuse = await refresh(http, app_client, first["refresh_token"])
    assert reuse.status == 400 and await error_of(reuse) == "invalid_grant"
    assert await denylisted(redis, settings, first, refreshed) == [True, True]


async def test_a_retried_code_replay_denylists_tokens_refreshed_since(http, redis, settings, pool, app_client, user):
    issued, first, refreshed = await a_refreshed_grant(http, redis, settings, app_client, user)
    await crashed_revocation(pool, first["refresh_token"])
    replay = await exchange(http, app_client, issued)
    assert replay.status == 400 and await error_of(replay) == "invalid_grant"
    assert await denylisted(redis, settings, first, refreshed) == [True, True]


async def test_a_retried_revoke_request_denylists_the_grants_access_tokens(http, redis, settings, pool, app_client,
                                                                           user):
    _, first, refreshed = await a_refreshed_grant(http, redis, settings, app_client, user)
    await crashed_revocation(pool, refreshed["refresh_token"])
    response = await post_form(http, "/revoke", app_client, {"token": refreshed["refresh_token"]})
    assert response.status == 200
    assert await denylisted(redis, settings, first, refreshed) == [True, True]
