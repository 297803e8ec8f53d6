"""/api/whoami: the verified token as the API sees it, for any valid access token."""

from __future__ import annotations

from tests.integration.resource.minting import bearer_header


async def test_whoami_shows_the_verified_claims(http, resource_url, user, token_for):
    token = token_for(user, "openid notes:read", client_id="the-app")
    async with http.get(resource_url + "/api/whoami", headers=bearer_header(token)) as response:
        assert response.status == 200
        body = await response.json()
    assert body["sub"] == str(user.id) and body["client_id"] == "the-app"
    assert body["scope"] == "notes:read openid"
    assert isinstance(body["exp"], int) and isinstance(body["auth_time"], int)


async def test_whoami_needs_a_token(http, resource_url):
    async with http.get(resource_url + "/api/whoami") as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="latchkey"'
