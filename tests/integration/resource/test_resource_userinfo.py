"""/userinfo (OpenID Connect Core §5.3) over the real service and the run's PostgreSQL."""

from __future__ import annotations

import pytest

from tests.integration.resource.minting import bearer_header


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
