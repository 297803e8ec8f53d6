"""Errors for a verified client go back to its redirect URI with error, state and iss.

RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6, RFC 9207 §2. The state here contains characters that
must be URL-encoded, and markup, to show it comes back intact and inert.
"""

from urllib.parse import urlencode

import pytest

from tests.integration.authorize.conftest import CALLBACK
from tests.support.flows import Pkce, redirect_query

STATE = "st <script>&x=1"
PKCE = Pkce.new()


def params(client_id, **overrides):
    base = {"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "scope": "openid profile",
            "state": STATE, "nonce": "n1", "code_challenge": PKCE.challenge, "code_challenge_method": "S256"}
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


CASES = [
    pytest.param({"response_type": None}, "", "invalid_request", id="missing response_type"),
    pytest.param({"response_type": "token"}, "", "unsupported_response_type", id="response_type token"),
    pytest.param({}, "&scope=email", "invalid_request", id="repeated scope"),
    pytest.param({}, "&nonce=n2", "invalid_request", id="repeated nonce"),
    pytest.param({"scope": "openid admin"}, "", "invalid_scope", id="unknown scope"),
    pytest.param({"scope": None}, "", "invalid_scope", id="missing scope"),
    pytest.param({"code_challenge_method": "plain"}, "", "invalid_request", id="plain PKCE"),
    pytest.param({"code_challenge": "too-short"}, "", "invalid_request", id="malformed code_challenge"),
    pytest.param({"code_challenge": None, "code_challenge_method": None}, "", "invalid_request",
                 id="no PKCE while required"),
    pytest.param({"prompt": "none"}, "", "login_required", id="prompt=none without a session"),
    pytest.param({"prompt": "none login"}, "", "invalid_request", id="prompt=none combined"),
    pytest.param({"max_age": "soon"}, "", "invalid_request", id="max_age not a number"),
    pytest.param({"resource": "https://elsewhere.example"}, "", "invalid_target", id="foreign resource"),
    pytest.param({"request": "eyJhbGciOiJub25lIn0.e30."}, "", "request_not_supported", id="request object"),
    pytest.param({"request_uri": "https://app.example/r"}, "", "request_uri_not_supported", id="request_uri"),
    pytest.param({"registration": "{}"}, "", "registration_not_supported", id="registration"),
]


@pytest.mark.parametrize("overrides, extra, error", CASES)
async def test_get_redirects_error_with_state_and_iss(authorize_client, app_settings, web_app, overrides, extra,
                                                      error):
    url = f"/authorize?{urlencode(params(web_app.client_id, **overrides))}{extra}"
    response = await authorize_client.get(url, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].startswith(CALLBACK + "?")
    query = redirect_query(response)
    assert query["error"] == error
    assert query["error_description"]
    assert query["state"] == STATE
    assert query["iss"] == app_settings.issuer
    assert "code" not in query


async def test_post_redirects_error_with_303(authorize_client, app_settings, web_app):
    response = await authorize_client.post("/authorize", data=params(web_app.client_id, response_type="token"),
                                           allow_redirects=False)
    assert response.status == 303
    assert redirect_query(response) == {"error": "unsupported_response_type",
                                        "error_description": "only response_type=code is supported",
                                        "state": STATE, "iss": app_settings.issuer}


async def test_error_without_state_has_no_state(authorize_client, web_app):
    response = await authorize_client.get("/authorize", params=params(web_app.client_id, state=None, scope="admin"),
                                          allow_redirects=False)
    assert "state" not in redirect_query(response)


async def test_client_without_the_code_grant_is_unauthorized(authorize_client, pool):
    from tests.support.factories import make_client

    # Registration now refuses a client without authorization_code; one stored before that rule
    # (or written to the table directly) must still be refused here.
    refresh_only = await make_client(pool, redirect_uris=(CALLBACK,))
    await pool.execute("UPDATE clients SET grant_types = '{refresh_token}' WHERE client_id = $1",
                       refresh_only.client_id)
    response = await authorize_client.get("/authorize", params=params(refresh_only.client_id), allow_redirects=False)
    assert redirect_query(response)["error"] == "unauthorized_client"


async def test_public_client_without_pkce_is_refused_even_when_policy_is_off(make_authorize_client, spa):
    client = await make_authorize_client(require_pkce=False)
    response = await client.get("/authorize", params={
        "response_type": "code", "client_id": spa.client_id, "redirect_uri": "http://127.0.0.1:5173/cb",
        "scope": "openid", "state": "s"}, allow_redirects=False)
    assert response.headers["Location"].startswith("http://127.0.0.1:5173/cb?")
    query = redirect_query(response)
    assert (query["error"], query["state"]) == ("invalid_request", "s")
    assert "public clients must use PKCE" in query["error_description"]


async def test_confidential_client_without_pkce_is_allowed_when_policy_is_off(make_authorize_client, web_app):
    client = await make_authorize_client(require_pkce=False)
    response = await client.get("/authorize", params=params(web_app.client_id, code_challenge=None,
                                                            code_challenge_method=None), allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].startswith("/login?tx=")
