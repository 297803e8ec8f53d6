"""/account: sign in and come back, the applications the user allowed (revoke), their sessions
(end one or all), the password change; each form refused without its one-time token, and no
action reaches another user's consent or session."""

from __future__ import annotations

import re

import pytest

from services.authorize.endpoints.account import EXPIRED_FORM
from services.authorize.endpoints.account_actions import NO_SUCH_SESSION, NOT_AUTHORIZED, WRONG_PASSWORD
from shared.crypto.digests import sha256_hex
from shared.stores.pg_consents import PgConsents
from shared.stores.pg_users import PgUsers
from tests.integration.authorize.conftest import CALLBACK, PASSWORD, TestUser
from tests.support.factories import make_user
from tests.support.flows import Page, authorization_params, location_of, open_page, submit_login
from tests.support.secrets import register

SESSION_COOKIE = "latchkey_session"
HANDLE = re.compile(r'<input type="hidden" name="session" value="([0-9a-f]{64})">')


def session_id(client) -> str:
    value: str = next(c.value for c in client.session.cookie_jar if c.key == SESSION_COOKIE)
    return value


def session_key(app_settings, client) -> str:
    return f"{app_settings.redis_prefix}session:{sha256_hex(session_id(client))}"


async def password_hash(pool, user: TestUser) -> str:
    record = await PgUsers(pool).get(user.id)
    assert record is not None
    return record.password_hash


async def sign_in_at_account(client, user: TestUser) -> Page:
    """No session: /account sends to the login page, and the login back to /account."""
    first = await client.get("/account", allow_redirects=False)
    login = location_of(first)
    assert login.startswith("/login?tx="), login
    page = await open_page(client, login)
    assert "to manage your Latchkey account" in page.html
    done = await submit_login(client, page, user.username, user.password)
    assert (done.status, location_of(done)) == (303, "/account")
    return await open_page(client, "/account")


@pytest.fixture
async def other_user(pool, settings) -> TestUser:
    return TestUser(await make_user(pool, settings, password=PASSWORD), PASSWORD)


@pytest.fixture
async def browser(make_authorize_client):
    return await make_authorize_client()


@pytest.fixture
async def second_browser(make_authorize_client):
    return await make_authorize_client()


async def test_without_a_session_it_signs_in_and_comes_back(browser, user):
    page = await sign_in_at_account(browser, user)
    assert "Your account" in page.html and user.username in page.html
    response = await browser.get("/account")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "form-action 'self'" in response.headers["Content-Security-Policy"]


async def test_the_sign_in_goes_nowhere_but_the_account_page(browser, user):
    """Whatever the URL carries, the only destination is /account (no open redirect)."""
    first = await browser.get("/account", params={"next": "https://evil.example/", "done": "https://evil.example/"},
                              allow_redirects=False)
    page = await open_page(browser, location_of(first))
    done = await submit_login(browser, page, user.username, user.password)
    assert location_of(done) == "/account"
    assert "evil.example" not in await (await browser.get("/account", params={"done": "<b>x</b>"})).text()


async def test_an_account_sign_in_is_no_authorization_transaction(browser):
    login = location_of(await browser.get("/account", allow_redirects=False))
    consent = await browser.get(login.replace("/login", "/consent"), allow_redirects=False)
    assert consent.status == 400 and "expired" in await consent.text()


async def test_lists_the_applications_in_words(browser, user, web_app, pool):
    await PgConsents(pool).grant(user.id, web_app.client_id, frozenset({"openid", "notes:read"}))
    page = await sign_in_at_account(browser, user)
    assert "Photo Printer" in page.html
    assert "Sign you in and know who you are" in page.html and "Read your notes" in page.html
    assert "Allowed <time datetime=" in page.html


async def test_revoke_removes_the_consent(browser, user, web_app, pool):
    consents = PgConsents(pool)
    await consents.grant(user.id, web_app.client_id, frozenset({"openid"}))
    page = await sign_in_at_account(browser, user)
    response = await browser.post("/account/applications/revoke",
                                  data={"csrf": page.csrf, "client_id": web_app.client_id}, allow_redirects=False)
    assert (response.status, location_of(response)) == (303, "/account?done=revoked")
    assert await consents.granted_scopes(user.id, web_app.client_id) == frozenset()
    actor = await pool.fetchval("SELECT details->>'actor' FROM audit_events WHERE event_type = 'consent_revoked' "
                                "AND user_id = $1 AND client_id = $2", user.record.id, web_app.client_id)
    assert actor == "account"
    after = await open_page(browser, "/account?done=revoked")
    assert "Photo Printer" not in after.html and "access was removed" in after.html


async def test_revoking_another_users_application_is_impossible(browser, user, other_user, web_app, pool):
    consents = PgConsents(pool)
    await consents.grant(other_user.id, web_app.client_id, frozenset({"openid"}))
    page = await sign_in_at_account(browser, user)  # ``user`` never allowed Photo Printer
    response = await browser.post("/account/applications/revoke",
                                  data={"csrf": page.csrf, "client_id": web_app.client_id})
    assert response.status == 404 and NOT_AUTHORIZED in await response.text()
    assert await consents.granted_scopes(other_user.id, web_app.client_id) == frozenset({"openid"})


@pytest.mark.parametrize("csrf", [None, "", "forged-token"], ids=["missing", "empty", "forged"])
async def test_a_form_without_its_token_is_refused(browser, user, web_app, pool, csrf):
    await PgConsents(pool).grant(user.id, web_app.client_id, frozenset({"openid"}))
    await sign_in_at_account(browser, user)
    form = {"client_id": web_app.client_id} | ({"csrf": csrf} if csrf is not None else {})
    response = await browser.post("/account/applications/revoke", data=form)
    assert response.status == 403 and EXPIRED_FORM in await response.text()
    assert await PgConsents(pool).granted_scopes(user.id, web_app.client_id) == frozenset({"openid"})


async def test_a_replayed_form_is_refused(browser, user, web_app, spa, pool):
    consents = PgConsents(pool)
    for client in (web_app, spa):
        await consents.grant(user.id, client.client_id, frozenset({"openid"}))
    page = await sign_in_at_account(browser, user)
    first = await browser.post("/account/applications/revoke", data={"csrf": page.csrf, "client_id": web_app.client_id},
                               allow_redirects=False)
    assert first.status == 303
    replay = await browser.post("/account/applications/revoke", data={"csrf": page.csrf, "client_id": spa.client_id})
    assert replay.status == 403
    assert await consents.granted_scopes(user.id, spa.client_id) == frozenset({"openid"})


async def test_a_token_of_another_session_is_refused(browser, second_browser, user, web_app, pool):
    await PgConsents(pool).grant(user.id, web_app.client_id, frozenset({"openid"}))
    theirs = await sign_in_at_account(second_browser, user)
    await sign_in_at_account(browser, user)
    response = await browser.post("/account/applications/revoke",
                                  data={"csrf": theirs.csrf, "client_id": web_app.client_id})
    assert response.status == 403


async def test_sessions_are_listed_and_another_one_ended(browser, second_browser, user, redis, app_settings):
    await sign_in_at_account(second_browser, user)
    page = await sign_in_at_account(browser, user)
    handles = HANDLE.findall(page.html)
    mine = sha256_hex(session_id(browser))
    assert sorted(handles) == sorted([mine, sha256_hex(session_id(second_browser))])
    assert page.html.count("This browser") == 1
    other = next(h for h in handles if h != mine)
    response = await browser.post("/account/sessions/end", data={"csrf": page.csrf, "session": other},
                                  allow_redirects=False)
    assert (response.status, location_of(response)) == (303, "/account?done=session_ended")
    assert not await redis.exists(session_key(app_settings, second_browser))
    assert await redis.exists(session_key(app_settings, browser))
    kicked_out = await second_browser.get("/account", allow_redirects=False)
    assert location_of(kicked_out).startswith("/login?tx=")


async def test_ending_a_session_not_yours_is_impossible(browser, second_browser, user, other_user, redis,
                                                        app_settings):
    await sign_in_at_account(second_browser, other_user)
    page = await sign_in_at_account(browser, user)
    theirs = sha256_hex(session_id(second_browser))
    response = await browser.post("/account/sessions/end", data={"csrf": page.csrf, "session": theirs})
    assert response.status == 404 and NO_SUCH_SESSION in await response.text()
    assert await redis.exists(session_key(app_settings, second_browser))


async def test_end_all_signs_out_everywhere(browser, second_browser, user, redis, app_settings):
    await sign_in_at_account(second_browser, user)
    page = await sign_in_at_account(browser, user)
    keys = [session_key(app_settings, b) for b in (browser, second_browser)]
    response = await browser.post("/account/sessions/end-all", data={"csrf": page.csrf}, allow_redirects=False)
    assert (response.status, location_of(response)) == (303, "/account")
    assert response.cookies[SESSION_COOKIE]["max-age"] == "0"
    assert not any([await redis.exists(k) for k in keys])


async def test_wrong_current_password_changes_nothing(browser, second_browser, user, pool, redis, app_settings):
    await sign_in_at_account(second_browser, user)
    page = await sign_in_at_account(browser, user)
    response = await browser.post("/account/password", data={
        "csrf": page.csrf, "current_password": "not the password", "new_password": "a brand new secret"})
    html = await response.text()
    assert response.status == 400 and WRONG_PASSWORD in html and 'role="alert"' in html
    assert await password_hash(pool, user) == user.record.password_hash
    assert await redis.exists(session_key(app_settings, second_browser))


async def test_a_new_password_follows_the_cli_policy(browser, user, pool):
    page = await sign_in_at_account(browser, user)
    response = await browser.post("/account/password", data={
        "csrf": page.csrf, "current_password": user.password, "new_password": "short"})
    assert response.status == 400 and "at least 8 characters" in await response.text()
    assert await password_hash(pool, user) == user.record.password_hash


async def test_password_change_ends_every_other_session(browser, second_browser, make_authorize_client, user, pool,
                                                        redis, app_settings, web_app):
    await sign_in_at_account(second_browser, user)
    page = await sign_in_at_account(browser, user)
    new_password = "a brand new secret"
    register(new_password)
    response = await browser.post("/account/password", data={
        "csrf": page.csrf, "current_password": user.password, "new_password": new_password}, allow_redirects=False)
    assert (response.status, location_of(response)) == (303, "/account?done=password_changed")
    assert await redis.exists(session_key(app_settings, browser))
    assert not await redis.exists(session_key(app_settings, second_browser))
    actor = await pool.fetchval("SELECT details->>'actor' FROM audit_events WHERE event_type = 'user_password_set' "
                                "AND user_id = $1", user.record.id)
    assert actor == "account"
    fresh = await make_authorize_client()
    params = authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid",
                                  code_verifier="v" * 43)
    login = await open_page(fresh, location_of(await fresh.get("/authorize", params=params, allow_redirects=False)))
    old = await submit_login(fresh, login, user.username, user.password)
    assert old.status == 200 and "do not match" in await old.text()
    new = await submit_login(fresh, login, user.username, new_password)
    assert new.status == 303


ACCOUNT_FORMS = ["/account/applications/revoke", "/account/sessions/end", "/account/sessions/end-all",
                 "/account/password"]


@pytest.mark.parametrize("token", ["missing", "forged", "sign-out form's"])
@pytest.mark.parametrize("path", ACCOUNT_FORMS)
async def test_every_account_form_is_refused_without_its_own_token(browser, second_browser, user, web_app, pool,
                                                                   redis, app_settings, path, token):
    """CSRF on every form of the page, not only revoke; a token of another form kind (the sign-out
    confirmation's, bound to the same session) does not pass either."""
    await PgConsents(pool).grant(user.id, web_app.client_id, frozenset({"openid"}))
    await sign_in_at_account(second_browser, user)
    await sign_in_at_account(browser, user)
    csrf = {"missing": None, "forged": "forged-token",
            "sign-out form's": (await open_page(browser, "/logout")).csrf}[token]
    form = {"client_id": web_app.client_id, "session": sha256_hex(session_id(second_browser)),
            "current_password": user.password, "new_password": "a brand new secret"}
    response = await browser.post(path, data=form | ({"csrf": csrf} if csrf is not None else {}),
                                  allow_redirects=False)
    assert response.status == 403 and EXPIRED_FORM in await response.text()
    assert await PgConsents(pool).granted_scopes(user.id, web_app.client_id) == frozenset({"openid"})
    assert await redis.exists(session_key(app_settings, browser))
    assert await redis.exists(session_key(app_settings, second_browser))
    assert await password_hash(pool, user) == user.record.password_hash


async def test_an_account_form_token_does_not_confirm_a_sign_out(browser, user, redis, app_settings):
    page = await sign_in_at_account(browser, user)
    response = await browser.post("/logout", data={"csrf": page.csrf}, allow_redirects=False)
    assert response.status == 403
    assert await redis.exists(session_key(app_settings, browser))
