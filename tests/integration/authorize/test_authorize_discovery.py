"""Discovery documents (RFC 8414, OIDC Discovery) and the health endpoints."""

import pytest

PATHS = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]


@pytest.mark.parametrize("path", PATHS)
async def test_discovery_is_built_from_settings(authorize_client, app_settings, path):
    response = await authorize_client.get(path, headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    assert response.status == 200 and response.content_type == "application/json"
    document = await response.json()
    assert document["issuer"] == app_settings.issuer
    assert document["authorization_endpoint"] == app_settings.issuer + "/authorize"
    assert document["token_endpoint"] == app_settings.token_url + "/token"
    assert document["userinfo_endpoint"] == app_settings.resource_url + "/userinfo"
    assert document["end_session_endpoint"] == app_settings.issuer + "/logout"  # RP-Initiated Logout 1.0 §2.1
    # Back-Channel Logout 1.0 §2.1 is built; Front-Channel Logout is not, so it is not claimed.
    assert document["backchannel_logout_supported"] is True
    assert document["backchannel_logout_session_supported"] is True
    assert not [name for name in document if name.startswith("frontchannel_logout")]
    assert {"check_session_iframe", "registration_endpoint"}.isdisjoint(document)
    urls = [v for k, v in document.items() if k.endswith("_endpoint") or k == "jwks_uri"]
    assert len(urls) == 7 and all(u.startswith(("http://", "https://")) for u in urls)
    assert "evil.example" not in await response.text()
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["authorization_response_iss_parameter_supported"] is True
    assert "none" not in document["id_token_signing_alg_values_supported"]
    assert set(document["scopes_supported"]) >= {"openid", "profile", "email", "offline_access"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", PATHS)
async def test_a_preflight_from_any_origin_is_answered(authorize_client, path):
    """A single-page app that sends a header of its own (If-None-Match, say) makes the browser ask first."""
    response = await authorize_client.options(path, headers={
        "Origin": "https://spa.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    plain = await authorize_client.options(path)
    assert plain.status == 204 and plain.headers["Allow"] == "GET, OPTIONS"


async def test_both_documents_agree(authorize_client):
    first, second = [await (await authorize_client.get(p)).json() for p in PATHS]
    assert first == second


async def test_healthz(authorize_client):
    response = await authorize_client.get("/healthz")
    assert (response.status, await response.json()) == (200, {"status": "ok"})


async def test_readyz_checks_postgres_and_redis(authorize_client):
    response = await authorize_client.get("/readyz")
    assert (response.status, await response.json()) == (200, {"status": "ok", "postgres": "ok", "redis": "ok"})
