"""/userinfo (OpenID Connect Core §5.3) over the real service and the run's PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from shared.models import User
from tests.integration.resource.minting import bearer_header
from tests.support.factories import make_user


@pytest.mark.parametrize("scope, expected_keys", [
    pytest.param("openid", {"sub"}, id="openid gives sub only"),
    pytest.param("openid profile", {"sub", "name", "preferred_username"}, id="profile"),
    pytest.param("openid email", {"sub", "email", "email_verified"}, id="email"),
    pytest.param("openid profile email offline_access notes:read",
                 {"sub", "name", "preferred_username", "email", "email_verified"}, id="everything"),
])
async def test_claims_follow_the_scope(http, resource_url, user, token_for, scope, expected_keys):
    async with http.get(resource_url + "/userinfo", headers=bearer_header(token_for(user, scope))) as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        assert response.headers["Cache-Control"] == "no-store"
        claims = await response.json()
    assert set(claims) == expected_keys
    assert claims["sub"] == str(user.id)
    expected = {"name": "Ada Lovelace", "preferred_username": user.username, "email": "ada@example.com",
                "email_verified": True}
    assert {k: v for k, v in claims.items() if k != "sub"} == {k: expected[k] for k in expected_keys - {"sub"}}


async def test_post_with_header_and_with_form_body(http, resource_url, user, token_for):
    token = token_for(user, "openid profile")
    async with http.post(resource_url + "/userinfo", headers=bearer_header(token)) as response:
        assert response.status == 200
        assert (await response.json())["preferred_username"] == user.username
    async with http.post(resource_url + "/userinfo", data={"access_token": token}) as response:
        assert response.status == 200
        assert (await response.json())["sub"] == str(user.id)


async def test_token_without_openid_is_insufficient_scope(http, resource_url, user, token_for):
    async with http.get(resource_url + "/userinfo", headers=bearer_header(token_for(user, "notes:read"))) as response:
        assert response.status == 403
        assert (await response.json())["error"] == "insufficient_scope"
        assert 'scope="openid"' in response.headers["WWW-Authenticate"]


async def test_disabled_user_is_invalid_token(http, resource_url, user, token_for, pool):
    token = token_for(user, "openid")
    await pool.execute("UPDATE users SET disabled = true WHERE id = $1", user.id)
    async with http.get(resource_url + "/userinfo", headers=bearer_header(token)) as response:
        assert response.status == 401
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


async def test_deleted_user_is_invalid_token(http, resource_url, user, token_for, pool):
    token = token_for(user, "openid")
    await pool.execute("DELETE FROM users WHERE id = $1", user.id)
    async with http.get(resource_url + "/userinfo", headers=bearer_header(token)) as response:
        assert response.status == 401


# --- the per-user claims cache (issue 9 §5) ------------------------------------------------

REFUSED_WITHIN_SECONDS = 5.0  # issue 9: a disabled user's token stops working within 5 s


@pytest.mark.parametrize("change", [
    pytest.param("UPDATE users SET disabled = true WHERE id = $1", id="disabled"),
    pytest.param("DELETE FROM users WHERE id = $1", id="deleted"),
])
async def test_a_cached_users_token_is_refused_within_5_s_of_a_change(http, resource_url, user, token_for, pool,
                                                                      change):
    headers = bearer_header(token_for(user, "openid profile"))
    for _ in range(3):  # cached now: the answers after the first come from the cache
        async with http.get(resource_url + "/userinfo", headers=headers) as response:
            assert response.status == 200
    await pool.execute(change, user.id)
    changed_at = time.monotonic()
    statuses = []
    while time.monotonic() - changed_at < REFUSED_WITHIN_SECONDS + 1:
        async with http.get(resource_url + "/userinfo", headers=headers) as response:
            statuses.append(response.status)
            if response.status == 401:
                assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
                break
        await asyncio.sleep(0.1)
    refused_after = time.monotonic() - changed_at
    assert statuses[-1] == 401, f"still {statuses[-1]} {refused_after:.1f} s after the change"
    assert refused_after <= REFUSED_WITHIN_SECONDS
    assert set(statuses[:-1]) <= {200}


async def test_the_cache_never_answers_with_another_users_claims(http, resource_url, pool, settings, token_for):
    users = [await make_user(pool, settings, name=f"User {i}", email=f"user{i}@example.com") for i in range(4)]

    async def claims_of(user: User) -> tuple[User, dict[str, Any]]:
        async with http.get(resource_url + "/userinfo",
                            headers=bearer_header(token_for(user, "openid profile email"))) as response:
            assert response.status == 200
            return user, await response.json()

    # Interleaved and concurrent, so misses for several users are in flight at once, then hits.
    for _ in range(2):
        answers = await asyncio.gather(*(claims_of(users[i % len(users)]) for i in range(40)))
        for user, claims in answers:
            assert claims == {"sub": str(user.id), "preferred_username": user.username, "name": user.name,
                              "email": user.email, "email_verified": True}
