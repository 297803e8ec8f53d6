"""/metrics of the authorize service after real logins, and the reference on error pages."""

from __future__ import annotations

import logging
import re

from tests.integration.authorize.conftest import CALLBACK
from tests.support.access_lines import access_lines
from tests.support.flows import Pkce, authorization_params, obtain_code, open_login, submit_login
from tests.support.metrics import moved, scrape

EVENTS = "latchkey_security_events_total"


async def test_a_wrong_password_counts_one_login_failure(authorize_client, web_app, user):
    params = authorization_params(client_id=web_app.client_id, redirect_uri=CALLBACK, scope="openid",
                                  code_verifier=Pkce.new().verifier)
    page = await open_login(authorize_client, params)
    before = await scrape(authorize_client)
    response = await submit_login(authorize_client, page, user.username, "not the password")
    assert response.status == 200 and "do not match" in await response.text()
    after = await scrape(authorize_client)
    assert moved(before, after, EVENTS, event="login_failure") == 1
    assert moved(before, after, "latchkey_logins_total", outcome="failed") == 1
    assert moved(before, after, "latchkey_logins_total", outcome="succeeded") == 0


async def test_a_login_and_its_code_are_counted(authorize_client, web_app, user):
    before = await scrape(authorize_client)
    await obtain_code(authorize_client, client_id=web_app.client_id, redirect_uri=CALLBACK,
                      username=user.username, password=user.password, code_verifier=Pkce.new().verifier)
    after = await scrape(authorize_client)
    assert moved(before, after, "latchkey_logins_total", outcome="succeeded") == 1
    assert moved(before, after, "latchkey_authorization_codes_total", outcome="issued") == 1
    assert moved(before, after, EVENTS, event="login_failure") == 0


async def test_an_error_page_reference_is_logged_beside_the_request_id(authorize_client, caplog):
    caplog.set_level(logging.INFO, "latchkey.access")
    response = await authorize_client.get("/authorize", params={"client_id": "no-such-client",
                                                                "response_type": "code"})
    assert response.status == 400
    request_id = response.headers["X-Request-Id"]
    found = re.search(r'id="request-reference">([^<]+)<', await response.text())
    assert found is not None
    lines = await access_lines(caplog, request_id)
    assert len(lines) == 1 and f"ref={found.group(1)}" in lines[0] and "reason=unknown_client" in lines[0]
