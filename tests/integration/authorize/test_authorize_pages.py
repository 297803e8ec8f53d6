"""Every page: strict CSP, no framing, no referrer, no caching, no CORS, escaped output."""

import re

import pytest

from tests.integration.authorize.conftest import CALLBACK
from tests.support.flows import Pkce, authorization_params, open_login, submit_login
from tests.support.typed import present

PKCE = Pkce.new()
EVIL_ORIGIN = {"Origin": "https://evil.example"}


@pytest.fixture
def params(web_app):
    return authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid",
                                code_verifier=PKCE.verifier)


async def pages(client, params, user):
    """(name, response) of each kind of page the service shows."""
    login = await open_login(client, params)
    login_response = await client.get(login.location, headers=EVIL_ORIGIN)
    consent_location = (await submit_login(client, login, user.username, user.password)).headers["Location"]
    return [
        ("login", login_response),
        ("consent", await client.get(consent_location, headers=EVIL_ORIGIN)),
        ("error", await client.get("/authorize?client_id=nobody", headers=EVIL_ORIGIN)),
        ("not found", await client.get("/nowhere", headers=EVIL_ORIGIN)),
        ("logout", await client.get("/logout", headers=EVIL_ORIGIN)),
    ]


async def test_security_headers_on_every_page(authorize_client, params, user):
    for name, response in await pages(authorize_client, params, user):
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, name
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp, name
        assert headers["X-Frame-Options"] == "DENY", name
        assert headers["Referrer-Policy"] == "no-referrer", name
        assert headers["Cache-Control"] == "no-store", name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert not any(h.lower().startswith("access-control-") for h in headers), name
        html = await response.text()
        assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=", html), f"inline script or style on {name}"


async def test_form_action_allows_only_us_and_the_clients_origin(authorize_client, params):
    login = await open_login(authorize_client, params)
    csp = (await authorize_client.get(login.location)).headers["Content-Security-Policy"]
    assert "form-action 'self' https://app.example;" in csp


async def test_redirects_carrying_codes_are_not_cached(authorize_client, params, user):
    login = await open_login(authorize_client, params)
    response = await submit_login(authorize_client, login, user.username, user.password)
    consent = await authorize_client.get(response.headers["Location"])
    csrf = present(re.search(r'name="csrf" value="([^"]+)"', await consent.text())).group(1)
    to_client = await authorize_client.post(response.headers["Location"], data={"csrf": csrf, "decision": "allow"},
                                            allow_redirects=False)
    assert "code=" in to_client.headers["Location"]
    assert to_client.headers["Cache-Control"] == "no-store"
    assert to_client.headers["Referrer-Policy"] == "no-referrer"


async def test_error_page_does_not_reflect_input(make_authorize_client, web_app):
    """Outside dev mode; with LATCHKEY_DEV=1 the URI sent is shown, escaped
    (test_authorize_error_pages.py)."""
    authorize_client = await make_authorize_client(dev_mode=False)
    response = await authorize_client.get("/authorize", params={
        "client_id": web_app.client_id, "redirect_uri": "https://evil.example/<script>alert(1)</script>"})
    assert response.status == 400
    body = await response.text()
    assert "<script>" not in body and "evil.example" not in body


async def test_stylesheet_is_served_and_cacheable(authorize_client, params):
    login = await open_login(authorize_client, params)
    href = present(re.search(r'<link rel="stylesheet" href="([^"]+)">', login.html)).group(1)
    assert re.fullmatch(r"/static/style\.css\?v=[0-9a-f]{12}", href)
    response = await authorize_client.get(href)
    assert response.status == 200 and response.content_type == "text/css"
    assert "max-age" in response.headers["Cache-Control"]


async def test_pages_are_accessible_basics(authorize_client, params):
    login = await open_login(authorize_client, params)
    assert '<html lang="en">' in login.html
    assert '<label for="username">' in login.html and '<label for="password">' in login.html
    assert 'autocomplete="current-password"' in login.html
    assert '<meta name="viewport"' in login.html
