"""Hostile or broken input gets a clear 4xx, never a 5xx or a stack trace."""

import pytest
from yarl import URL

from tests.integration.authorize.conftest import CALLBACK
from tests.support.flows import Pkce, authorization_params, open_login

PKCE = Pkce.new()


def assert_clean_4xx(status, body, expected=None):
    assert 400 <= status < 500, status
    if expected is not None:
        assert status == expected
    assert "Traceback" not in body and "File \"" not in body


@pytest.mark.parametrize("query, expected, message", [
    pytest.param("client_id=%ZZ", 400, "broken percent-escape", id="broken percent-escape"),
    pytest.param("client_id=%FF%FE", 400, "not valid UTF-8", id="invalid UTF-8"),
    pytest.param("client_id=a%00b", 400, "contains a control character", id="NUL byte"),
    pytest.param("&".join(f"p{i}=x" for i in range(500)), 400, "more than 50 parameters", id="500 parameters"),
    pytest.param("client_id=" + "x" * 4000, 400, "not registered", id="a 4000-character client_id"),
])
async def test_broken_queries(authorize_client, query, expected, message):
    # encoded=True: sent exactly as written, as a hostile client would.
    response = await authorize_client.get(URL(f"/authorize?{query}", encoded=True), allow_redirects=False)
    body = await response.text()
    assert_clean_4xx(response.status, body, expected)
    assert message in body


async def test_oversized_query_is_refused_by_the_http_parser(authorize_client):
    response = await authorize_client.get("/authorize?state=" + "x" * 10000, allow_redirects=False)
    assert_clean_4xx(response.status, await response.text())


async def test_oversized_body_is_413(authorize_client, app_settings):
    body = "state=" + "x" * (app_settings.max_body_bytes + 1)
    response = await authorize_client.post("/authorize", data=body,
                                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_clean_4xx(response.status, await response.text(), 413)


async def test_body_of_another_type_is_415(authorize_client, web_app):
    response = await authorize_client.post("/authorize", json={"client_id": web_app.client_id})
    assert_clean_4xx(response.status, await response.text(), 415)


async def test_raw_non_ascii_form_body_is_400(authorize_client, web_app):
    params = authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid",
                                  code_verifier=PKCE.verifier)
    login = await open_login(authorize_client, params)
    response = await authorize_client.post(login.location, data="username=caf\u00e9&password=x".encode(),
                                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_clean_4xx(response.status, await response.text(), 400)


async def test_nul_in_username_is_400_not_a_database_error(authorize_client, web_app):
    params = authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid",
                                  code_verifier=PKCE.verifier)
    login = await open_login(authorize_client, params)
    response = await authorize_client.post(login.location, data=f"csrf={login.csrf}&username=a%00&password=x",
                                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_clean_4xx(response.status, await response.text(), 400)


async def test_script_in_state_comes_back_encoded(authorize_client, web_app):
    response = await authorize_client.get("/authorize", params={
        "client_id": web_app.client_id, "redirect_uri": CALLBACK, "response_type": "token",
        "state": "<script>alert(1)</script>"}, allow_redirects=False)
    location = response.headers["Location"]
    assert "<" not in location and "%3Cscript%3E" in location


@pytest.mark.parametrize("method, path, status", [
    pytest.param("PUT", "/authorize", 405, id="PUT on authorize"),
    pytest.param("DELETE", "/login", 405, id="DELETE on login"),
    pytest.param("GET", "/authorize/../../etc/passwd", 404, id="path traversal"),
])
async def test_wrong_method_or_path(authorize_client, method, path, status):
    response = await authorize_client.request(method, path)
    assert_clean_4xx(response.status, await response.text(), status)
    if status == 405:
        assert "GET" in response.headers["Allow"]


async def test_junk_cookies_are_ignored(authorize_client, web_app):
    params = authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid",
                                  code_verifier=PKCE.verifier, prompt="none")
    response = await authorize_client.get("/authorize", params=params, allow_redirects=False,
                                          headers={"Cookie": "latchkey_session=%FF%00junk; latchkey_browser="})
    assert response.status == 302
    assert "error=login_required" in response.headers["Location"]


async def test_huge_transaction_id_is_a_clean_400(authorize_client):
    response = await authorize_client.get("/login?tx=" + "A" * 5000)
    assert_clean_4xx(response.status, await response.text(), 400)


def _query(params: dict[str, str], raw_extra: str) -> URL:
    """The request's query as a browser encodes it, then ``raw_extra`` appended exactly as written."""
    return URL(f"/authorize?{URL.build(query=params).raw_query_string}&{raw_extra}", encoded=True)


@pytest.mark.parametrize("raw_extra", ["foo=%01", "foo=%ZZ", "foo=%FF%FE", "f%00o=1"],
                         ids=["control character", "broken escape", "invalid UTF-8", "malformed name"])
async def test_an_unrecognized_parameter_is_ignored_however_malformed(authorize_client, web_app, raw_extra):
    """RFC 6749 §3.1: the authorization server MUST ignore unrecognized request parameters."""
    params = authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid",
                                  code_verifier=PKCE.verifier)
    response = await authorize_client.get(_query(params, raw_extra), allow_redirects=False)
    assert response.status == 302
    assert URL(response.headers["Location"]).path.endswith("/login")


@pytest.mark.parametrize("name, raw, error", [
    ("scope", "openid%09profile", "invalid_scope"),
    ("nonce", "n%01", "invalid_request"),
    ("login_hint", "a%00", "invalid_request"),
    ("code_challenge", "%ZZ", "invalid_request"),
], ids=["a tab in scope", "a control character in nonce", "NUL in login_hint", "a broken escape in code_challenge"])
async def test_a_malformed_value_of_a_defined_parameter_goes_back_to_the_client(authorize_client, web_app, name,
                                                                                 raw, error):
    """RFC 6749 §4.1.2.1: once the client and redirect URI are verified, errors are redirected."""
    params = authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid",
                                  code_verifier=PKCE.verifier)
    params.pop(name, None)
    response = await authorize_client.get(_query(params, f"{name}={raw}"), allow_redirects=False)
    assert response.status == 302
    location = URL(response.headers["Location"])
    assert str(location.with_query(None)) == CALLBACK
    assert location.query["error"] == error and location.query["state"] == params["state"]
    assert "control character" in location.query["error_description"] or "escape" in location.query[
        "error_description"]


@pytest.mark.parametrize("name", ["client_id", "redirect_uri", "state"])
async def test_a_malformed_client_id_redirect_uri_or_state_is_a_page(authorize_client, web_app, name):
    """Not redirected: a malformed redirect_uri must not be taken for an omitted one (the one
    registered URI), and a malformed state cannot be returned exactly. Not an OpenID request: one
    without redirect_uri could otherwise go to the client's only registered URI (RFC 6749 §3.1.2.3)."""
    params = authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="notes:read",
                                  code_verifier=PKCE.verifier)
    del params[name]
    response = await authorize_client.get(_query(params, f"{name}=x%01"), allow_redirects=False)
    body = await response.text()
    assert_clean_4xx(response.status, body, 400)
    assert "Location" not in response.headers
    assert f"parameter {name} contains a control character" in body
