"""Consent: the page, allow, deny, and remembered consent (OIDC Core §3.1.2.4, §11)."""

import asyncio

import pytest

from shared.stores.pg_consents import PgConsents
from tests.integration.authorize.conftest import CALLBACK
from tests.support.factories import make_client
from tests.support.flows import (
    DEFAULT_STATE,
    Pkce,
    authorization_params,
    authorize_as_browser,
    open_login,
    open_page,
    redirect_query,
    submit_login,
)

PKCE = Pkce.new()


def params_for(client_id, scope="openid profile", **extra):
    return authorization_params(client_id=client_id, redirect_uri=CALLBACK, scope=scope,
                                code_verifier=PKCE.verifier, **extra)


async def consent_page(client, params, user):
    response = await submit_login(client, await open_login(client, params), user.username, user.password)
    assert response.headers["Location"].startswith("/consent?tx=")
    return await open_page(client, response.headers["Location"])


async def test_consent_page_names_the_client_and_each_scope(authorize_client, web_app, user):
    page = await consent_page(authorize_client, params_for(web_app.client_id, "openid profile email"), user)
    assert "Photo Printer" in page.html
    for words in ("Sign you in and know who you are", "See your name and username", "See your email address"):
        assert words in page.html
    assert 'name="decision" value="allow"' in page.html
    assert 'name="decision" value="deny"' in page.html
    assert user.username in page.html
    assert "app.example" in page.html  # where the user will be sent


async def test_script_in_client_name_is_escaped(authorize_client, pool, user):
    evil = await make_client(pool, redirect_uris=(CALLBACK,), name='<script>alert("x")</script>')
    page = await consent_page(authorize_client, params_for(evil.client_id), user)
    assert "<script>" not in page.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.html


async def test_allow_redirects_with_a_code_and_remembers(authorize_client, app_settings, web_app, user, pool):
    page = await consent_page(authorize_client, params_for(web_app.client_id), user)
    response = await authorize_client.post(page.location, data={"csrf": page.csrf, "decision": "allow"},
                                           allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith(CALLBACK + "?")
    query = redirect_query(response)
    assert set(query) == {"code", "state", "iss"}
    assert (query["state"], query["iss"]) == (DEFAULT_STATE, app_settings.issuer)
    assert await PgConsents(pool).granted_scopes(user.id, web_app.client_id) == {"openid", "profile"}


async def test_deny_redirects_access_denied(authorize_client, app_settings, web_app, user, pool):
    page = await consent_page(authorize_client, params_for(web_app.client_id), user)
    response = await authorize_client.post(page.location, data={"csrf": page.csrf, "decision": "deny"},
                                           allow_redirects=False)
    assert response.status == 303
    assert redirect_query(response) == {"error": "access_denied", "error_description": "the user denied the request",
                                        "state": DEFAULT_STATE, "iss": app_settings.issuer}
    assert await PgConsents(pool).granted_scopes(user.id, web_app.client_id) == frozenset()


async def test_an_unknown_decision_is_refused(authorize_client, web_app, user):
    page = await consent_page(authorize_client, params_for(web_app.client_id), user)
    response = await authorize_client.post(page.location, data={"csrf": page.csrf, "decision": "maybe"},
                                           allow_redirects=False)
    assert response.status == 400


@pytest.mark.parametrize("second_scope, skips_consent", [
    pytest.param("openid profile", True, id="same scopes skip the consent page"),
    pytest.param("openid", True, id="fewer scopes skip the consent page"),
    pytest.param("openid profile email", False, id="a new scope asks again"),
    pytest.param("openid offline_access", False, id="offline_access not yet approved asks"),
])
async def test_remembered_consent(authorize_client, web_app, user, second_scope, skips_consent):
    await authorize_as_browser(authorize_client, params_for(web_app.client_id), username=user.username,
                               password=user.password)
    response = await authorize_client.get("/authorize", params=params_for(web_app.client_id, second_scope),
                                          allow_redirects=False)
    location = response.headers["Location"]
    if skips_consent:
        assert location.startswith(CALLBACK + "?") and "code" in redirect_query(response)
    else:
        assert location.startswith("/consent?tx=")


async def test_prompt_consent_asks_even_when_remembered(authorize_client, web_app, user):
    await authorize_as_browser(authorize_client, params_for(web_app.client_id), username=user.username,
                               password=user.password)
    response = await authorize_client.get("/authorize", params=params_for(web_app.client_id, prompt="consent"),
                                          allow_redirects=False)
    assert response.headers["Location"].startswith("/consent?tx=")


async def test_consent_is_per_client(authorize_client, web_app, pool, user):
    await authorize_as_browser(authorize_client, params_for(web_app.client_id), username=user.username,
                               password=user.password)
    other = await make_client(pool, redirect_uris=(CALLBACK,), name="Other App")
    response = await authorize_client.get("/authorize", params=params_for(other.client_id), allow_redirects=False)
    assert response.headers["Location"].startswith("/consent?tx=")


async def test_consent_cannot_be_submitted_twice(authorize_client, web_app, user):
    page = await consent_page(authorize_client, params_for(web_app.client_id), user)
    first = await authorize_client.post(page.location, data={"csrf": page.csrf, "decision": "allow"},
                                        allow_redirects=False)
    second = await authorize_client.post(page.location, data={"csrf": page.csrf, "decision": "allow"},
                                         allow_redirects=False)
    assert first.status == 303
    assert second.status == 400
    assert "already completed" in await second.text()


async def test_racing_consent_submits_issue_exactly_one_code(authorize_client, app_settings, web_app, user, pool,
                                                             redis):
    page = await consent_page(authorize_client, params_for(web_app.client_id), user)
    responses = await asyncio.gather(*(
        authorize_client.post(page.location, data={"csrf": page.csrf, "decision": "allow"}, allow_redirects=False)
        for _ in range(5)))
    assert sorted(r.status for r in responses) == [303, 400, 400, 400, 400]
    assert len(await redis.keys(f"{app_settings.redis_prefix}code:*")) == 1
    assert await PgConsents(pool).granted_scopes(user.id, web_app.client_id) == {"openid", "profile"}


async def test_consent_page_before_login_sends_to_login(authorize_client, web_app):
    page = await open_login(authorize_client, params_for(web_app.client_id))
    response = await authorize_client.get(page.location.replace("/login", "/consent"), allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == page.location


async def test_consent_after_signing_out_elsewhere_is_refused(authorize_client, web_app, user):
    page = await consent_page(authorize_client, params_for(web_app.client_id), user)
    logout = await open_page(authorize_client, "/logout")
    await authorize_client.post("/logout", data={"csrf": logout.csrf})
    response = await authorize_client.post(page.location, data={"csrf": page.csrf, "decision": "allow"},
                                           allow_redirects=False)
    assert response.status == 400
    assert "signed out" in await response.text()


async def test_consent_grows_with_new_scopes(authorize_client, web_app, user, pool):
    await authorize_as_browser(authorize_client, params_for(web_app.client_id), username=user.username,
                               password=user.password)
    await authorize_as_browser(authorize_client, params_for(web_app.client_id, "openid email"),
                               username=user.username, password=user.password)
    assert await PgConsents(pool).granted_scopes(user.id, web_app.client_id) == {"openid", "profile", "email"}


async def test_remembered_offline_access_skips_the_consent_page(authorize_client, web_app, user, take_grant):
    offline = "openid profile offline_access"
    await authorize_as_browser(authorize_client, params_for(web_app.client_id, offline), username=user.username,
                               password=user.password)
    again = await authorize_client.get("/authorize", params=params_for(web_app.client_id, offline),
                                       allow_redirects=False)
    assert again.headers["Location"].startswith(CALLBACK + "?")
    grant = await take_grant(redirect_query(again)["code"])
    assert grant is not None and "offline_access" in grant.scope
    asked = await authorize_client.get("/authorize", params=params_for(web_app.client_id, offline, prompt="consent"),
                                       allow_redirects=False)
    assert asked.headers["Location"].startswith("/consent?tx=")  # prompt=consent still asks


async def test_no_code_is_issued_when_consent_cannot_be_remembered(authorize_client, app_settings, web_app, user,
                                                                  pool, redis):
    page = await consent_page(authorize_client, params_for(web_app.client_id), user)
    await pool.execute("DELETE FROM users WHERE id = $1", user.record.id)  # storing consent will now fail
    response = await authorize_client.post(page.location, data={"csrf": page.csrf, "decision": "allow"},
                                           allow_redirects=False)
    assert response.status == 500
    assert await redis.keys(f"{app_settings.redis_prefix}code:*") == []  # remember first, then issue
