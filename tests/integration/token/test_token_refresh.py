"""refresh_token at POST /token (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from shared.crypto.digests import new_secret, sha256_hex
from shared.models import NewRefreshToken
from shared.stores.pg_refresh_tokens import PgRefreshTokens
from shared.stores.redis_denylist import RedisDenylist
from tests.integration.token.helpers import basic, decode, error_of, exchange, issue_code, refresh
from tests.support.factories import make_client


async def first_tokens(http, redis, settings, client, user, scope="openid offline_access notes:read notes:write",
                       **code_options) -> dict[str, Any]:
    issued = await issue_code(redis, settings, client, user, scope=scope, **code_options)
    response = await exchange(http, client, issued)
    assert response.status == 200
    value: dict[str, Any] = await response.json()
    return value


async def live_tokens(pool, client_id: str, user_id) -> list[Any]:
    value: list[Any] = await pool.fetch("""SELECT family_id FROM refresh_tokens WHERE client_id = $1 AND user_id = $2
                               AND revoked_at IS NULL AND used_at IS NULL""", client_id, user_id)
    return value


async def test_a_refresh_rotates_the_token_and_issues_a_fresh_access_token(http, redis, settings, app_client, user):
    first = await first_tokens(http, redis, settings, app_client, user)
    response = await refresh(http, app_client, first["refresh_token"])
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Pragma"] == "no-cache"
    body = await response.json()
    assert body["refresh_token"] != first["refresh_token"] and body["access_token"] != first["access_token"]
    assert body["scope"] == "openid offline_access notes:read notes:write"
    _, claims = await decode(http, body["access_token"], audience=settings.access_audience, issuer=settings.issuer)
    assert claims["sub"] == str(user.id) and claims["client_id"] == app_client.client_id
    assert (await refresh(http, app_client, body["refresh_token"])).status == 200


async def test_a_refresh_of_an_openid_grant_carries_a_new_id_token(http, redis, settings, app_client, user):
    """OIDC Core §12.2: same iss, sub, aud, azp, auth_time and sid; a new iat; no nonce."""
    issued = await issue_code(redis, settings, app_client, user, sid="sid-of-the-login-session",
                              auth_time=1_700_000_000)
    first = await (await exchange(http, app_client, issued)).json()
    _, original = await decode(http, first["id_token"], audience=app_client.client_id, issuer=settings.issuer)
    await asyncio.sleep(1.1)  # so the new iat differs
    body = await (await refresh(http, app_client, first["refresh_token"])).json()
    _, renewed = await decode(http, body["id_token"], audience=app_client.client_id, issuer=settings.issuer)
    assert original["sid"] == renewed["sid"] == "sid-of-the-login-session"
    for claim in ("iss", "sub", "aud", "azp", "auth_time"):
        assert renewed[claim] == original[claim], claim
    assert renewed["iat"] > original["iat"] and renewed["exp"] > renewed["iat"]
    assert "nonce" in original and "nonce" not in renewed
    # A second refresh, from the successor row, still knows the session.
    again = await (await refresh(http, app_client, body["refresh_token"])).json()
    _, third = await decode(http, again["id_token"], audience=app_client.client_id, issuer=settings.issuer)
    assert third["sid"] == "sid-of-the-login-session"


async def test_a_refresh_of_a_grant_without_openid_has_no_id_token(http, redis, settings, app_client, user):
    first = await first_tokens(http, redis, settings, app_client, user, scope="offline_access notes:read")
    body = await (await refresh(http, app_client, first["refresh_token"])).json()
    assert "id_token" not in body and body["scope"] == "offline_access notes:read"


async def test_a_refresh_narrowed_to_a_scope_without_openid_has_no_id_token(http, redis, settings, app_client, user):
    first = await first_tokens(http, redis, settings, app_client, user)
    body = await (await refresh(http, app_client, first["refresh_token"], scope="notes:read")).json()
    assert "id_token" not in body and body["scope"] == "notes:read"
    # The grant keeps openid: a refresh that does not narrow it away gets an ID token again.
    again = await (await refresh(http, app_client, body["refresh_token"])).json()
    assert "id_token" in again and "openid" in again["scope"].split()


async def test_a_reused_refresh_token_revokes_the_whole_family(http, redis, settings, pool, app_client, user):
    first = await first_tokens(http, redis, settings, app_client, user)
    second = await (await refresh(http, app_client, first["refresh_token"])).json()
    reuse = await refresh(http, app_client, first["refresh_token"])
    assert reuse.status == 400 and await error_of(reuse) == "invalid_grant"
    # The legitimate successor dies with it, and so do the access tokens of the family.
    assert await error_of(await refresh(http, app_client, second["refresh_token"])) == "invalid_grant"
    denylist = RedisDenylist(redis, settings.redis_prefix)
    for token in (first["access_token"], second["access_token"]):
        assert await denylist.contains(jwt.decode(token, options={"verify_signature": False})["jti"])
    row = await pool.fetchrow("SELECT * FROM audit_events WHERE event_type = 'refresh_reuse' AND user_id = $1", user.id)
    assert row is not None and first["refresh_token"] not in str(dict(row))


async def test_ten_concurrent_refreshes_never_leave_two_live_families(http, redis, settings, pool, app_client, user):
    first = await first_tokens(http, redis, settings, app_client, user)
    responses = await asyncio.gather(*(refresh(http, app_client, first["refresh_token"]) for _ in range(10)))
    assert [r.status for r in responses].count(200) == 1
    assert len(await live_tokens(pool, app_client.client_id, user.id)) <= 1


async def test_a_narrower_scope_narrows_the_access_token_only(http, redis, settings, app_client, user):
    first = await first_tokens(http, redis, settings, app_client, user)
    narrow = await (await refresh(http, app_client, first["refresh_token"], scope="notes:read")).json()
    assert narrow["scope"] == "notes:read"
    _, claims = await decode(http, narrow["access_token"], audience=settings.access_audience, issuer=settings.issuer)
    assert claims["scope"] == "notes:read"
    # §6: the new refresh token keeps the scope of the one presented.
    again = await (await refresh(http, app_client, narrow["refresh_token"])).json()
    assert again["scope"] == "openid offline_access notes:read notes:write"


async def test_a_wider_scope_is_invalid_scope_and_keeps_the_token(http, redis, settings, app_client, user):
    first = await first_tokens(http, redis, settings, app_client, user, scope="offline_access notes:read")
    response = await refresh(http, app_client, first["refresh_token"], scope="notes:read notes:write")
    assert response.status == 400 and await error_of(response) == "invalid_scope"
    assert (await refresh(http, app_client, first["refresh_token"])).status == 200


async def test_another_clients_refresh_token_is_invalid_grant_and_keeps_working(http, redis, settings, app_client,
                                                                                other_client, user):
    first = await first_tokens(http, redis, settings, app_client, user)
    response = await refresh(http, other_client, first["refresh_token"])
    assert response.status == 400 and await error_of(response) == "invalid_grant"
    assert (await refresh(http, app_client, first["refresh_token"])).status == 200


@pytest.mark.parametrize("column", ["expires_at", "family_expires_at"], ids=["idle lifetime over",
                                                                             "absolute lifetime over"])
async def test_an_expired_refresh_token_is_invalid_grant(http, redis, settings, pool, app_client, user, column):
    first = await first_tokens(http, redis, settings, app_client, user)
    await pool.execute(f"UPDATE refresh_tokens SET {column} = now() - interval '1 second' WHERE token_hash = $1",
                       sha256_hex(first["refresh_token"]))
    response = await refresh(http, app_client, first["refresh_token"])
    assert response.status == 400 and await error_of(response) == "invalid_grant"


async def test_lifetimes_come_from_the_settings(http, redis, settings, pool, app_client, user):
    first = await first_tokens(http, redis, settings, app_client, user)
    row = await pool.fetchrow("""SELECT extract(epoch FROM expires_at - created_at) AS idle,
                                        extract(epoch FROM family_expires_at - created_at) AS absolute
                                 FROM refresh_tokens WHERE token_hash = $1""", sha256_hex(first["refresh_token"]))
    assert abs(float(row["idle"]) - settings.refresh_idle_ttl) < 5
    assert abs(float(row["absolute"]) - settings.refresh_token_ttl) < 5


async def test_a_disabled_user_cannot_refresh(http, redis, settings, pool, app_client, user):
    first = await first_tokens(http, redis, settings, app_client, user)
    await pool.execute("UPDATE users SET disabled = true WHERE id = $1", user.id)
    response = await refresh(http, app_client, first["refresh_token"])
    assert response.status == 400 and await error_of(response) == "invalid_grant"


async def test_an_unknown_or_missing_refresh_token(http, app_client):
    assert await error_of(await refresh(http, app_client, "not-a-token")) == "invalid_grant"
    response = await http.post("/token", data={"grant_type": "refresh_token"},
                               headers={"Authorization": basic(app_client.client_id, app_client.secret)})
    assert await error_of(response) == "invalid_request"


async def test_the_resource_of_the_grant_stays_the_audience(http, redis, settings, app_client, user):
    first = await first_tokens(http, redis, settings, app_client, user, resource="https://notes.example/api")
    body = await (await refresh(http, app_client, first["refresh_token"])).json()
    _, claims = await decode(http, body["access_token"], audience="https://notes.example/api", issuer=settings.issuer)
    assert claims["aud"] == ["https://notes.example/api", settings.userinfo_audience]  # an openid grant
    response = await refresh(http, app_client, body["refresh_token"], resource="https://evil.example")
    assert response.status == 400 and await error_of(response) == "invalid_target"


async def test_within_the_grace_period_a_lost_response_can_be_retried(start_token_app, redis, settings, app_client,
                                                                      user):
    async with start_token_app(refresh_grace=30) as http:
        first = await first_tokens(http, redis, settings, app_client, user)
        lost = await refresh(http, app_client, first["refresh_token"])
        retry = await refresh(http, app_client, first["refresh_token"])
        assert lost.status == 200 and retry.status == 200
        assert (await refresh(http, app_client, (await retry.json())["refresh_token"])).status == 200


async def test_without_grace_the_retry_is_reuse(http, redis, settings, app_client, user):
    first = await first_tokens(http, redis, settings, app_client, user)
    assert (await refresh(http, app_client, first["refresh_token"])).status == 200
    assert (await refresh(http, app_client, first["refresh_token"])).status == 400


async def test_a_retry_within_grace_revokes_the_first_child(start_token_app, redis, settings, pool, app_client, user):
    # RFC 9700 §4.14.2: a token never has two live children, grace or not.
    async with start_token_app(refresh_grace=30) as http:
        first = await first_tokens(http, redis, settings, app_client, user)
        lost = await (await refresh(http, app_client, first["refresh_token"])).json()
        retry = await (await refresh(http, app_client, first["refresh_token"])).json()
        assert await pool.fetchval("SELECT revoked_at FROM refresh_tokens WHERE token_hash = $1",
                                   sha256_hex(lost["refresh_token"])) is not None
        denylist = RedisDenylist(redis, settings.redis_prefix)
        assert await denylist.contains(jwt.decode(lost["access_token"], options={"verify_signature": False})["jti"])
        assert not await denylist.contains(jwt.decode(retry["access_token"],
                                                      options={"verify_signature": False})["jti"])
        # Whoever holds the superseded child is a second holder: presenting it ends the grant.
        stale = await refresh(http, app_client, lost["refresh_token"])
        assert stale.status == 400 and await error_of(stale) == "invalid_grant"
        assert await error_of(await refresh(http, app_client, retry["refresh_token"])) == "invalid_grant"



async def test_simultaneous_retries_within_grace_leave_one_live_token(start_token_app, redis, settings, pool,
                                                                      app_client, user):
    # None shed (eight at once on a busy machine can be a standing queue): the subject is the grace.
    async with start_token_app(refresh_grace=30, max_concurrent_requests=16, min_concurrent_requests=16) as http:
        first = await first_tokens(http, redis, settings, app_client, user)
        assert (await refresh(http, app_client, first["refresh_token"])).status == 200  # the lost response
        retries = await asyncio.gather(*(refresh(http, app_client, first["refresh_token"]) for _ in range(8)))
        assert {r.status for r in retries} == {200}
        assert len(await live_tokens(pool, app_client.client_id, user.id)) == 1


async def test_within_grace_a_parent_whose_successor_was_used_is_reuse(start_token_app, redis, settings, pool,
                                                                     app_client, user):
    """The client received and used the child, so the parent coming back is a stolen copy."""
    async with start_token_app(refresh_grace=30) as http:
        first = await first_tokens(http, redis, settings, app_client, user)
        child = await (await refresh(http, app_client, first["refresh_token"])).json()
        grandchild = await (await refresh(http, app_client, child["refresh_token"])).json()
        replay = await refresh(http, app_client, first["refresh_token"])
        assert replay.status == 400 and await error_of(replay) == "invalid_grant"
        assert await live_tokens(pool, app_client.client_id, user.id) == []  # the whole family revoked
        denylist = RedisDenylist(redis, settings.redis_prefix)
        assert await denylist.contains(jwt.decode(grandchild["access_token"],
                                                  options={"verify_signature": False})["jti"])
        audited = await pool.fetchval("SELECT count(*) FROM audit_events"
                                      " WHERE event_type = 'refresh_reuse' AND client_id = $1",
                                      app_client.client_id)
        assert audited == 1


async def test_a_503_for_a_missing_key_leaves_the_refresh_token_unused(http, settings, pool, user):
    """The keys are checked before the rotation, so the client can simply try again later."""
    client = await make_client(pool, id_token_alg="EdDSA")  # the factory skips the CLI's key-ring check
    presented, now = new_secret(), datetime.now(UTC)
    await PgRefreshTokens(pool).issue(NewRefreshToken(
        token_hash=sha256_hex(presented), family_id=uuid.uuid4(), client_id=client.client_id, user_id=user.id,
        scope=("openid", "offline_access"), resource=None, auth_time=now, expires_at=now + timedelta(days=1),
        family_expires_at=now + timedelta(days=30)))
    response = await refresh(http, client, presented)
    assert response.status == 503 and await error_of(response) == "temporarily_unavailable"
    assert await pool.fetchval("SELECT used_at FROM refresh_tokens WHERE token_hash = $1",
                               sha256_hex(presented)) is None
