"""Forms are bound to the transaction (CSRF token) and the transaction to the browser."""

import pytest

from tests.integration.authorize.conftest import CALLBACK
from tests.support.flows import Pkce, authorization_params, open_login, open_page, submit_login

PKCE = Pkce.new()


@pytest.fixture
def params(web_app):
    return authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid",
                                code_verifier=PKCE.verifier)


@pytest.mark.parametrize("form_csrf", [
    pytest.param(None, id="missing csrf"),
    pytest.param("forged", id="wrong csrf"),
    pytest.param("\u00e9" * 43, id="non-ASCII csrf"),
])
async def test_login_without_the_right_csrf_is_refused(authorize_client, params, user, form_csrf):
    page = await open_login(authorize_client, params)
    form = {"username": user.username, "password": user.password}
    if form_csrf is not None:
        form["csrf"] = form_csrf
    response = await authorize_client.post(page.location, data=form, allow_redirects=False)
    assert response.status == 403
    assert "This form has expired" in await response.text()
    assert "latchkey_session" not in response.cookies


async def test_csrf_of_another_transaction_is_refused(authorize_client, params, user):
    first = await open_login(authorize_client, params)
    second = await open_login(authorize_client, params)
    response = await authorize_client.post(second.location, data={
        "csrf": first.csrf, "username": user.username, "password": user.password}, allow_redirects=False)
    assert response.status == 403


async def test_consent_without_the_right_csrf_is_refused(authorize_client, params, user):
    login = await open_login(authorize_client, params)
    consent_location = (await submit_login(authorize_client, login, user.username, user.password)).headers["Location"]
    await open_page(authorize_client, consent_location)
    response = await authorize_client.post(consent_location, data={"csrf": "forged", "decision": "allow"},
                                           allow_redirects=False)
    assert response.status == 403


async def test_transaction_opened_in_another_browser_is_refused(authorize_client, make_authorize_client, params,
                                                                user):
    page = await open_login(authorize_client, params)
    # The attacker's transaction, pushed to a victim whose browser never started it.
    victim = await make_authorize_client()
    victim_view = await victim.get(page.location)
    assert victim_view.status == 400
    assert "another browser" in await victim_view.text()
    forced = await victim.post(page.location, data={"csrf": page.csrf, "username": user.username,
                                                    "password": user.password}, allow_redirects=False)
    assert forced.status == 400
    assert "latchkey_session" not in forced.cookies


async def test_tampered_transaction_id_is_refused(authorize_client, params):
    page = await open_login(authorize_client, params)
    response = await authorize_client.get(page.location[:-2] + "xx")
    assert response.status == 400
