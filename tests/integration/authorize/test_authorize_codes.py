"""The code: 256 bits, single use, stored with the validated request and a TTL (RFC 6749 §4.1.2)."""

import time
import uuid

import pytest

from tests.integration.authorize.conftest import CALLBACK
from tests.support.flows import Pkce, authorization_params, obtain_code

PKCE = Pkce.new()


async def test_code_is_stored_with_the_validated_request(authorize_client, app_settings, web_app, user, codes,
                                                         take_grant):
    code = await obtain_code(authorize_client, client_id=web_app.client_id, redirect_uri=CALLBACK,
                             username=user.username, password=user.password, scope="openid profile email",
                             code_verifier=PKCE.verifier, nonce="n-0S6", resource=app_settings.access_audience)
    assert len(code) >= 43  # 32 random bytes, base64url
    assert app_settings.code_ttl - 2 <= await codes.ttl(code) <= app_settings.code_ttl
    grant = await take_grant(code)
    assert grant.client_id == web_app.client_id
    assert grant.redirect_uri == CALLBACK
    assert grant.scope == ("openid", "profile", "email")
    assert grant.user_id == user.id
    assert grant.nonce == "n-0S6"
    assert (grant.code_challenge, grant.code_challenge_method) == (PKCE.challenge, "S256")
    assert grant.resource == app_settings.access_audience
    assert uuid.UUID(grant.grant_id).version == 4
    assert abs(grant.auth_time - time.time()) < 30


async def test_omitted_redirect_uri_is_recorded_as_empty(authorize_client, web_app, user, take_grant):
    code = await obtain_code(authorize_client, client_id=web_app.client_id, redirect_uri=None,
                             username=user.username, password=user.password, scope="profile",
                             code_verifier=PKCE.verifier)
    grant = await take_grant(code)
    assert grant.redirect_uri == ""


async def test_code_ttl_comes_from_settings(make_authorize_client, web_app, user, codes):
    client = await make_authorize_client(code_ttl=17)
    code = await obtain_code(client, client_id=web_app.client_id, redirect_uri=CALLBACK, username=user.username,
                             password=user.password, code_verifier=PKCE.verifier)
    assert 15 <= await codes.ttl(code) <= 17


async def test_every_code_is_new(authorize_client, web_app, user):
    seen = set()
    for _ in range(3):
        seen.add(await obtain_code(authorize_client, client_id=web_app.client_id, redirect_uri=CALLBACK,
                                   username=user.username, password=user.password, code_verifier=PKCE.verifier))
    assert len(seen) == 3


async def test_public_client_with_pkce_gets_a_code(authorize_client, spa, user, take_grant):
    code = await obtain_code(authorize_client, client_id=spa.client_id, redirect_uri="http://127.0.0.1:5173/cb",
                             username=user.username, password=user.password, code_verifier=PKCE.verifier)
    assert (await take_grant(code)).code_challenge == PKCE.challenge


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_authorization_by_get_or_post(authorize_client, web_app, user, method):
    """OIDC Core §3.1.2.1: the endpoint takes GET and form POST alike."""
    params = authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid",
                                  code_verifier=PKCE.verifier)
    if method == "GET":
        response = await authorize_client.get("/authorize", params=params, allow_redirects=False)
    else:
        response = await authorize_client.post("/authorize", data=params, allow_redirects=False)
    assert response.status == (302 if method == "GET" else 303)
    assert response.headers["Location"].startswith("/login?tx=")

