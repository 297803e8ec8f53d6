"""POST /revoke (RFC 7009) and POST /introspect (RFC 7662): client authentication required,
only the client's own tokens, and nothing about a token that is not live."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt
import pytest

from shared.crypto.signing_keys import generate_private_key, public_jwk
from tests.integration.token.helpers import error_of, exchange, issue_code, post_form, refresh
from tests.support.factories import make_client


async def tokens(http, redis, settings, client, user, scope="openid offline_access notes:read") -> dict[str, Any]:
    issued = await issue_code(redis, settings, client, user, scope=scope)
    value: dict[str, Any] = await (await exchange(http, client, issued)).json()
    return value


async def introspect(http, client, token: str, **extra: str) -> dict[str, Any]:
    response = await post_form(http, "/introspect", client, {"token": token, **extra})
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    value: dict[str, Any] = await response.json()
    return value


async def revoke(http, client, token: str, **extra: str):
    return await post_form(http, "/revoke", client, {"token": token, **extra})


async def test_introspecting_a_live_access_token(http, redis, settings, app_client, user):
    issued = await tokens(http, redis, settings, app_client, user)
    info = await introspect(http, app_client, issued["access_token"])
    assert info["active"] is True and info["token_type"] == "Bearer"
    assert info["client_id"] == app_client.client_id and info["sub"] == str(user.id)
    assert info["scope"] == "openid offline_access notes:read" and info["iss"] == settings.issuer
    assert info["aud"] == settings.access_audience and info["exp"] > time.time()


async def test_introspecting_a_live_refresh_token(http, redis, settings, app_client, user):
    issued = await tokens(http, redis, settings, app_client, user)
    info = await introspect(http, app_client, issued["refresh_token"], token_type_hint="refresh_token")
    assert info["active"] is True and info["client_id"] == app_client.client_id and info["sub"] == str(user.id)
    assert info["scope"] == "openid offline_access notes:read"


async def test_revoking_a_refresh_token_revokes_its_grant(http, redis, settings, app_client, user):
    issued = await tokens(http, redis, settings, app_client, user)
    response = await revoke(http, app_client, issued["refresh_token"], token_type_hint="refresh_token")
    assert response.status == 200 and await response.read() == b""
    assert await introspect(http, app_client, issued["refresh_token"]) == {"active": False}
    assert await introspect(http, app_client, issued["access_token"]) == {"active": False}
    assert await error_of(await refresh(http, app_client, issued["refresh_token"])) == "invalid_grant"


async def test_revoking_an_access_token_revokes_only_it(http, redis, settings, app_client, user):
    issued = await tokens(http, redis, settings, app_client, user)
    assert (await revoke(http, app_client, issued["access_token"], token_type_hint="access_token")).status == 200
    assert await introspect(http, app_client, issued["access_token"]) == {"active": False}
    assert (await introspect(http, app_client, issued["refresh_token"]))["active"] is True


async def test_a_wrong_hint_does_not_matter(http, redis, settings, app_client, user):
    issued = await tokens(http, redis, settings, app_client, user)
    assert (await revoke(http, app_client, issued["refresh_token"], token_type_hint="access_token")).status == 200
    assert await introspect(http, app_client, issued["refresh_token"]) == {"active": False}


async def test_another_client_cannot_revoke_or_introspect(http, redis, settings, app_client, other_client, user):
    issued = await tokens(http, redis, settings, app_client, user)
    for token in (issued["access_token"], issued["refresh_token"]):
        assert await introspect(http, other_client, token) == {"active": False}
        refused = await revoke(http, other_client, token)
        assert refused.status == 400 and await error_of(refused) == "invalid_grant"
        assert (await introspect(http, app_client, token))["active"] is True


@pytest.mark.parametrize("token", ["not-a-token", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."],
                         ids=["random text", "three dotted parts", "an unsigned JWT"])
async def test_unknown_tokens_revoke_quietly_and_introspect_inactive(http, app_client, token):
    assert (await revoke(http, app_client, token)).status == 200
    assert await introspect(http, app_client, token) == {"active": False}


async def test_an_id_token_is_not_an_access_token(http, redis, settings, app_client, user):
    issued = await tokens(http, redis, settings, app_client, user)
    assert await introspect(http, app_client, issued["id_token"]) == {"active": False}


async def test_a_token_signed_by_a_stranger_is_inactive(http, settings, app_client):
    key = generate_private_key("RS256")
    now = int(time.time())
    forged = jwt.encode({"iss": settings.issuer, "sub": "x", "client_id": app_client.client_id, "exp": now + 60,
                         "iat": now, "jti": "forged", "scope": "openid"}, key, algorithm="RS256",
                        headers={"typ": "at+jwt", "kid": public_jwk(key, "RS256")["kid"]})
    assert await introspect(http, app_client, forged) == {"active": False}


async def test_a_rotated_refresh_token_is_inactive(http, redis, settings, app_client, user):
    issued = await tokens(http, redis, settings, app_client, user)
    await refresh(http, app_client, issued["refresh_token"])
    assert await introspect(http, app_client, issued["refresh_token"]) == {"active": False}


@pytest.mark.parametrize("path", ["/revoke", "/introspect"])
async def test_both_endpoints_require_client_authentication(http, path):
    response = await http.post(path, data={"token": "x"})
    assert response.status == 401 and await error_of(response) == "invalid_client"


@pytest.mark.parametrize("path", ["/revoke", "/introspect"])
async def test_a_missing_token_is_invalid_request(http, app_client, path):
    response = await post_form(http, path, app_client, {})
    assert response.status == 400 and await error_of(response) == "invalid_request"


async def test_a_public_client_may_revoke_but_not_introspect(http, redis, settings, pool, user):
    public = await make_client(pool, public=True)
    issued = await tokens(http, redis, settings, public, user)
    refused = await post_form(http, "/introspect", public, {"token": issued["access_token"]})
    assert refused.status == 401 and await error_of(refused) == "invalid_client"
    assert (await revoke(http, public, issued["refresh_token"])).status == 200
    assert await error_of(await refresh(http, public, issued["refresh_token"])) == "invalid_grant"


async def test_an_access_token_just_past_exp_can_still_be_revoked(start_token_app, redis, settings, app_client, user):
    # Bearer verifiers accept a token until exp + the clock leeway; revocation must reach that far.
    async with start_token_app(access_token_ttl=1) as http:
        issued = await tokens(http, redis, settings, app_client, user, scope="notes:read")
        await asyncio.sleep(2.2)
        assert (await revoke(http, app_client, issued["access_token"])).status == 200
    claims = jwt.decode(issued["access_token"], options={"verify_signature": False})
    assert claims["exp"] < time.time()
    key = f"{settings.redis_prefix}revoked-jti:{claims['jti']}"
    assert settings.clock_leeway - 3 <= await redis.ttl(key) <= settings.clock_leeway + 1

