"""The login page: the form, wrong credentials, the session cookie and its renewal."""

from urllib.parse import parse_qs, urlsplit

import pytest

from shared.crypto.digests import sha256_hex
from tests.integration.authorize.conftest import CALLBACK
from tests.support.flows import Pkce, authorization_params, open_login, open_page, submit_login

PKCE = Pkce.new()


@pytest.fixture
def params(web_app):
    return authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid profile",
                                code_verifier=PKCE.verifier)


async def test_login_form_has_the_contract_fields(authorize_client, params):
    page = await open_login(authorize_client, params)
    assert '<form method="post"' in page.html
    assert 'name="username"' in page.html and 'name="password"' in page.html and 'type="password"' in page.html
    assert 'type="hidden" name="csrf"' in page.html
    assert "Photo Printer" in page.html  # the client's name


async def test_unknown_user_and_wrong_password_look_the_same(authorize_client, params, user):
    page = await open_login(authorize_client, params)
    wrong_password = await submit_login(authorize_client, page, user.username, "not the password")
    unknown_user = await submit_login(authorize_client, page, "nobody-" + user.username, "not the password")
    assert wrong_password.status == unknown_user.status == 200
    wrong_html = (await wrong_password.text()).replace(user.username, "X")
    unknown_html = (await unknown_user.text()).replace("nobody-" + user.username, "X")
    assert wrong_html == unknown_html
    assert "do not match" in wrong_html
    assert "Set-Cookie" not in wrong_password.headers and "Set-Cookie" not in unknown_user.headers


async def test_missing_password_asks_again(authorize_client, params, user):
    page = await open_login(authorize_client, params)
    response = await submit_login(authorize_client, page, user.username, "")
    assert response.status == 200
    assert "Enter your username and password" in await response.text()


async def test_disabled_user_cannot_sign_in(authorize_client, params, user, pool):
    await pool.execute("UPDATE users SET disabled = true WHERE id = $1", user.record.id)
    page = await open_login(authorize_client, params)
    response = await submit_login(authorize_client, page, user.username, user.password)
    assert response.status == 200 and "do not match" in await response.text()


async def test_login_sets_a_hardened_session_cookie(authorize_client, params, user):
    page = await open_login(authorize_client, params)
    response = await submit_login(authorize_client, page, user.username, user.password)
    assert response.status == 303
    assert response.headers["Location"].startswith("/consent?tx=")
    cookie = response.cookies["latchkey_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert not cookie["secure"]  # the test issuer is http://localhost
    assert len(cookie.value) >= 43


async def test_https_issuer_makes_the_cookies_secure_host_cookies(make_authorize_client, web_app, user):
    client = await make_authorize_client(issuer="https://id.example")
    response = await client.get("/authorize", params=authorization_params(
        client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid", code_verifier=PKCE.verifier),
        allow_redirects=False)
    cookie = response.cookies["__Host-latchkey_browser"]
    assert cookie["secure"] is True and cookie["httponly"] is True and cookie["path"] == "/"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_username_is_case_insensitive(authorize_client, params, user):
    page = await open_login(authorize_client, params)
    response = await submit_login(authorize_client, page, user.username.upper(), user.password)
    assert response.status == 303


async def test_login_renews_the_session_id(authorize_client, params, user, redis, app_settings):
    first = await submit_login(authorize_client, await open_login(authorize_client, params), user.username,
                               user.password)
    old_id = first.cookies["latchkey_session"].value
    again = dict(params, prompt="login")
    second = await submit_login(authorize_client, await open_login(authorize_client, again), user.username,
                                user.password)
    new_id = second.cookies["latchkey_session"].value
    assert new_id != old_id
    assert await redis.exists(session_key(app_settings, new_id))
    assert not await redis.exists(session_key(app_settings, old_id))  # removed, not left behind


async def test_login_hint_prefills_the_username(authorize_client, params):
    page = await open_login(authorize_client, dict(params, login_hint="alice@example.com"))
    assert 'value="alice@example.com"' in page.html


async def test_login_page_without_a_transaction_is_an_error_page(authorize_client):
    response = await authorize_client.get("/login")
    assert response.status == 400
    assert "incomplete" in await response.text()


async def test_expired_transaction_is_an_error_page(authorize_client, params, redis, app_settings):
    page = await open_login(authorize_client, params)
    assert await redis.delete(tx_key(app_settings, page.location)) == 1
    response = await authorize_client.get(page.location)
    assert response.status == 400
    assert "expired" in await response.text()


async def test_transaction_lives_transaction_ttl(authorize_client, params, redis, app_settings):
    page = await open_login(authorize_client, params)
    ttl = await redis.ttl(tx_key(app_settings, page.location))
    assert app_settings.transaction_ttl - 5 <= ttl <= app_settings.transaction_ttl


async def test_session_lives_session_ttl(authorize_client, params, user, redis, app_settings):
    response = await submit_login(authorize_client, await open_login(authorize_client, params), user.username,
                                  user.password)
    ttl = await redis.ttl(session_key(app_settings, response.cookies["latchkey_session"].value))
    assert app_settings.session_ttl - 5 <= ttl <= app_settings.session_ttl


async def test_login_page_can_be_reloaded(authorize_client, params):
    page = await open_login(authorize_client, params)
    again = await open_page(authorize_client, page.location)
    assert again.csrf == page.csrf


def session_key(settings, session_id: str) -> str:
    """Sessions are stored under the hash of their id: a Redis dump holds no usable cookie."""
    return f"{settings.redis_prefix}session:{sha256_hex(session_id)}"


def tx_key(settings, location: str) -> str:
    tx_id = parse_qs(urlsplit(location).query)["tx"][0]
    return f"{settings.redis_prefix}authz-tx:{sha256_hex(tx_id)}"
