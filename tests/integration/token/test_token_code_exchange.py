"""authorization_code at POST /token (RFC 6749 §4.1.3, RFC 7636 §4.6, RFC 9068, OIDC Core §3.1.3)."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest

from shared.crypto.digests import sha256_hex
from shared.stores.pg_refresh_tokens import PgRefreshTokens
from shared.stores.redis_codes import RedisCodeStore
from shared.tokens.minting import at_hash
from tests.integration.token.helpers import decode, error_of, exchange, issue_code
from tests.support.factories import make_client


async def test_a_code_buys_an_access_token_an_id_token_and_a_refresh_token(http, redis, settings, app_client, user):
    issued = await issue_code(redis, settings, app_client, user, scope="openid offline_access notes:read")
    response = await exchange(http, app_client, issued)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Pragma"] == "no-cache"
    body = await response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == settings.access_token_ttl
    assert body["scope"] == "openid offline_access notes:read"
    assert len(body["refresh_token"]) >= 43  # 256 bits, base64url


async def test_the_access_token_is_an_rfc9068_jwt(http, redis, settings, app_client, user):
    issued = await issue_code(redis, settings, app_client, user, scope="openid notes:read")
    body = await (await exchange(http, app_client, issued)).json()
    header, claims = await decode(http, body["access_token"], audience=settings.access_audience, issuer=settings.issuer)
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256"
    assert claims["sub"] == str(user.id) and claims["client_id"] == app_client.client_id
    assert claims["scope"] == "openid notes:read" and claims["auth_time"] == issued.grant.auth_time
    assert claims["exp"] - claims["iat"] == 600 and abs(claims["iat"] - time.time()) < 5
    assert len(claims["jti"]) >= 22


async def test_the_id_token_is_for_the_client_with_nonce_and_at_hash(http, redis, settings, app_client, user):
    issued = await issue_code(redis, settings, app_client, user, scope="openid", nonce="n-42")
    body = await (await exchange(http, app_client, issued)).json()
    header, claims = await decode(http, body["id_token"], audience=app_client.client_id, issuer=settings.issuer)
    assert header["typ"] == "JWT" and header["alg"] == "ES256"  # LATCHKEY_ID_TOKEN_SIGNING_ALG's default
    assert claims["sub"] == str(user.id) and claims["azp"] == app_client.client_id
    assert claims["nonce"] == "n-42" and claims["auth_time"] == issued.grant.auth_time
    assert claims["at_hash"] == at_hash(body["access_token"], header["alg"])


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
async def test_a_client_gets_id_tokens_signed_with_its_registered_algorithm(http, redis, settings, pool, user, alg):
    client = await make_client(pool, id_token_alg=alg)
    issued = await issue_code(redis, settings, client, user, scope="openid")
    body = await (await exchange(http, client, issued)).json()
    header, claims = await decode(http, body["id_token"], audience=client.client_id, issuer=settings.issuer)
    assert header["alg"] == alg and claims["at_hash"] == at_hash(body["access_token"], alg)
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "RS256"  # access tokens unchanged


async def test_a_client_registered_for_an_algorithm_without_a_key_gets_503_and_keeps_its_code(
        http, redis, settings, pool, user):
    """Only if the configuration changed under it (the CLI refuses such a client): no ID token
    in another algorithm than the client registered, and the code is not spent on the 503."""
    client = await make_client(pool, id_token_alg="EdDSA")  # the factory skips the CLI's key-ring check
    issued = await issue_code(redis, settings, client, user, scope="openid")
    response = await exchange(http, client, issued)
    assert response.status == 503 and await error_of(response) == "temporarily_unavailable"
    assert await RedisCodeStore(redis, settings.redis_prefix).ttl(issued.code) > 0  # still redeemable
    assert await pool.fetchval("SELECT count(*) FROM refresh_tokens WHERE client_id = $1", client.client_id) == 0


@pytest.mark.parametrize("scope, has_id_token, has_refresh_token", [
    ("notes:read", False, False), ("openid", True, False), ("offline_access notes:read", False, True),
], ids=["no openid: no ID token", "no offline_access: no refresh token", "offline_access without openid"])
async def test_what_is_issued_follows_the_scope(http, redis, settings, app_client, user, scope, has_id_token,
                                                has_refresh_token):
    issued = await issue_code(redis, settings, app_client, user, scope=scope)
    body = await (await exchange(http, app_client, issued)).json()
    assert ("id_token" in body) is has_id_token
    assert ("refresh_token" in body) is has_refresh_token


async def test_a_client_not_allowed_to_refresh_gets_no_refresh_token(http, redis, settings, pool, user):
    client = await make_client(pool, grant_types=["authorization_code"])
    issued = await issue_code(redis, settings, client, user, scope="openid offline_access")
    body = await (await exchange(http, client, issued)).json()
    assert "refresh_token" not in body and "access_token" in body


async def test_the_refresh_token_is_stored_as_a_hash_only(http, redis, settings, pool, app_client, user):
    issued = await issue_code(redis, settings, app_client, user)
    refresh_token = (await (await exchange(http, app_client, issued)).json())["refresh_token"]
    stored = await PgRefreshTokens(pool).find(sha256_hex(refresh_token))
    assert stored is not None and str(stored.family_id) == issued.grant.grant_id
    assert stored.scope == issued.grant.scope and str(stored.user_id) == str(user.id)
    assert not await pool.fetchval("SELECT count(*) FROM refresh_tokens WHERE token_hash = $1", refresh_token)


@pytest.mark.parametrize("registration", [
    {"auth_method": "client_secret_basic"}, {"auth_method": "client_secret_post"}, {"public": True},
], ids=["client_secret_basic", "client_secret_post", "public client with PKCE"])
async def test_each_registered_auth_method_can_exchange(http, redis, settings, pool, user, registration):
    client = await make_client(pool, **registration)
    issued = await issue_code(redis, settings, client, user)
    assert (await exchange(http, client, issued)).status == 200


async def test_a_code_is_consumed_by_the_exchange(http, redis, settings, app_client, user):
    issued = await issue_code(redis, settings, app_client, user)
    await exchange(http, app_client, issued)
    assert await RedisCodeStore(redis, settings.redis_prefix).ttl(issued.code) == -2


@pytest.mark.parametrize("changes, error", [
    ({"code": "no-such-code"}, "invalid_grant"),
    ({"code": None}, "invalid_request"),
    ({"redirect_uri": None}, "invalid_grant"),
    ({"redirect_uri": "https://app.example/callback/"}, "invalid_grant"),
    ({"code_verifier": None}, "invalid_grant"),
    ({"code_verifier": "x" * 43}, "invalid_grant"),
    ({"code_verifier": "too-short"}, "invalid_grant"),
    ({"resource": "https://evil.example"}, "invalid_target"),
], ids=["unknown code", "missing code", "redirect_uri missing", "redirect_uri not identical", "PKCE verifier missing",
        "PKCE verifier wrong", "PKCE verifier malformed", "a resource that was not granted"])
async def test_a_bad_exchange_fails_and_burns_the_code(http, redis, settings, app_client, user, changes, error):
    issued = await issue_code(redis, settings, app_client, user)
    response = await exchange(http, app_client, issued, **changes)
    assert response.status == 400 and await error_of(response) == error
    assert response.headers["Cache-Control"] == "no-store"
    if "code" not in changes:
        # Even the right request cannot use the code any more.
        assert (await exchange(http, app_client, issued)).status == 400


async def test_a_code_issued_to_another_client_is_invalid_grant(http, redis, settings, app_client, other_client, user):
    issued = await issue_code(redis, settings, app_client, user)
    response = await exchange(http, other_client, issued)
    assert response.status == 400 and await error_of(response) == "invalid_grant"
    assert (await exchange(http, app_client, issued)).status == 400


async def test_a_verifier_without_a_challenge_is_refused(http, redis, settings, app_client, user):
    issued = await issue_code(redis, settings, app_client, user, pkce=False)
    response = await exchange(http, app_client, issued, code_verifier="dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    assert response.status == 400 and await error_of(response) == "invalid_grant"


async def test_without_a_challenge_no_verifier_is_needed(http, redis, settings, app_client, user):
    issued = await issue_code(redis, settings, app_client, user, pkce=False)
    assert (await exchange(http, app_client, issued)).status == 200


async def test_a_pkce_failure_is_audited_without_the_verifier(http, redis, settings, pool, app_client, user):
    issued = await issue_code(redis, settings, app_client, user)
    wrong = "W" * 43
    await exchange(http, app_client, issued, code_verifier=wrong)
    row = await pool.fetchrow("SELECT * FROM audit_events WHERE event_type = 'pkce_failure' AND client_id = $1",
                              app_client.client_id)
    assert row is not None and row["details"]["grant_id"] == issued.grant.grant_id
    assert wrong not in str(dict(row)) and issued.code not in str(dict(row))


async def test_an_expired_code_is_invalid_grant(http, redis, settings, app_client, user):
    issued = await issue_code(redis, settings, app_client, user, ttl=1)
    await redis.pexpire(f"{settings.redis_prefix}code:{sha256_hex(issued.code)}", 1)
    await asyncio.sleep(0.05)
    response = await exchange(http, app_client, issued)
    assert response.status == 400 and await error_of(response) == "invalid_grant"


async def test_without_redirect_uri_at_authorization_none_is_needed(http, redis, settings, app_client, user):
    issued = await issue_code(redis, settings, app_client, user, redirect_uri="")
    assert (await exchange(http, app_client, issued, redirect_uri=None)).status == 200


async def test_the_rfc8707_resource_of_the_grant_becomes_the_audience(http, redis, settings, app_client, user):
    issued = await issue_code(redis, settings, app_client, user, resource="https://notes.example/api")
    response = await exchange(http, app_client, issued, resource="https://notes.example/api")
    _, claims = await decode(http, (await response.json())["access_token"], audience="https://notes.example/api",
                             issuer=settings.issuer)
    # An OpenID request's (the default scope has openid): userinfo is named too (OIDC Core §5.3.1).
    assert claims["aud"] == ["https://notes.example/api", settings.userinfo_audience]


@pytest.mark.parametrize("scope", ["openid offline_access", "openid"], ids=["with refresh token", "without"])
async def test_a_user_disabled_after_login_gets_no_tokens(http, redis, settings, pool, app_client, user, scope):
    issued = await issue_code(redis, settings, app_client, user, scope=scope)
    await pool.execute("UPDATE users SET disabled = true WHERE id = $1", user.id)
    response = await exchange(http, app_client, issued)
    assert response.status == 400 and await error_of(response) == "invalid_grant"
    assert await pool.fetchval("SELECT count(*) FROM refresh_tokens WHERE user_id = $1", user.id) == 0


async def test_the_scope_leaves_out_offline_access_when_no_refresh_token_is_issued(http, redis, settings, pool, user):
    # RFC 6749 §5.1: the scope answered is the one granted; without a refresh token no offline access was.
    client = await make_client(pool, grant_types=["authorization_code"])
    issued = await issue_code(redis, settings, client, user, scope="openid offline_access notes:read")
    body = await (await exchange(http, client, issued)).json()
    assert "refresh_token" not in body and body["scope"] == "openid notes:read"
    _, claims = await decode(http, body["access_token"], audience=settings.access_audience, issuer=settings.issuer)
    assert claims["scope"] == "openid notes:read"

