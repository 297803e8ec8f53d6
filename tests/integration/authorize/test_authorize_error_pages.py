"""Error pages that lead back: a reference found in the log line with the reason, a link to the
client's registered home (client_uri), developer details only with LATCHKEY_DEV=1."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from tests.integration.authorize.conftest import CALLBACK
from tests.support.factories import make_client
from tests.support.flows import Pkce, authorization_params, open_login

SENT = "https://attacker.example/steal"
HOME = "https://photos.example/home"
REFERENCE = re.compile(r'id="request-reference">([0-9A-HJKMNP-TV-Z]{10})<')


def reference_of(html: str) -> str:
    found = REFERENCE.search(html)
    assert found is not None, "the error page shows no reference"
    return found.group(1)


async def access_line(caplog: pytest.LogCaptureFixture, ref: str) -> logging.LogRecord:
    """The access line is written just after the response: wait for it briefly."""
    for _ in range(100):
        lines = [r for r in caplog.records if r.name == "latchkey.access" and f"ref={ref}" in r.getMessage()]
        if lines:
            assert len(lines) == 1
            return lines[0]
        await asyncio.sleep(0.01)
    raise AssertionError(f"no access line with ref={ref}")


def bad_redirect_params(client_id: str) -> dict[str, str]:
    return authorization_params(client_id=client_id, redirect_uri=SENT, scope="openid",
                                code_verifier=Pkce.new().verifier)


@pytest.fixture
async def app_with_home(pool):
    return await make_client(pool, redirect_uris=(CALLBACK,), name="Photo Printer", client_uri=HOME)


async def test_the_bad_redirect_uri_page_reference_is_in_the_log_line_with_the_reason(authorize_client, web_app,
                                                                                     caplog):
    caplog.set_level(logging.INFO, "latchkey.access")
    response = await authorize_client.get("/authorize", params=bad_redirect_params(web_app.client_id),
                                          allow_redirects=False)
    assert response.status == 400 and "Location" not in response.headers
    ref = reference_of(await response.text())
    line = (await access_line(caplog, ref)).getMessage()
    assert "reason=redirect_uri_mismatch" in line and f"client_id={web_app.client_id}" in line
    assert f"request_id={response.headers['X-Request-Id']}" in line  # tied to the request id
    assert SENT not in line and "attacker" not in line  # the request's values stay out of the log


async def test_every_error_page_gets_its_own_reference(authorize_client):
    refs = set()
    for _ in range(3):
        response = await authorize_client.get("/authorize", params={"client_id": "no-such-client"})
        assert response.status == 400
        refs.add(reference_of(await response.text()))
    assert len(refs) == 3


async def test_a_404_page_has_a_reference_in_its_log_line(authorize_client, caplog):
    caplog.set_level(logging.INFO, "latchkey.access")
    response = await authorize_client.get("/no/such/page")
    assert response.status == 404
    line = (await access_line(caplog, reference_of(await response.text()))).getMessage()
    assert "reason=http_404" in line


async def test_a_known_client_with_a_home_gets_a_back_link(authorize_client, app_with_home):
    response = await authorize_client.get("/authorize", params=bad_redirect_params(app_with_home.client_id))
    html = await response.text()
    assert response.status == 400
    assert f'href="{HOME}"' in html and "Back to Photo Printer" in html
    assert f'href="{SENT}"' not in html  # never a link to what the request sent


async def test_no_back_link_without_a_registered_home(authorize_client, web_app):
    response = await authorize_client.get("/authorize", params=bad_redirect_params(web_app.client_id))
    assert response.status == 400 and "Back to" not in await response.text()


async def test_an_unknown_client_gets_no_back_link(authorize_client):
    response = await authorize_client.get("/authorize", params={"client_id": "no-such-client", "redirect_uri": HOME})
    html = await response.text()
    assert response.status == 400 and "Back to" not in html and f'href="{HOME}"' not in html


async def test_an_expired_form_links_back_to_the_client_it_was_for(authorize_client, app_with_home, caplog):
    caplog.set_level(logging.INFO, "latchkey.access")
    params = authorization_params(client_id=app_with_home.client_id, redirect_uri=CALLBACK, scope="openid",
                                  code_verifier=Pkce.new().verifier)
    page = await open_login(authorize_client, params)
    response = await authorize_client.post(page.location, data={"csrf": "stale", "username": "u", "password": "p"},
                                           allow_redirects=False)
    html = await response.text()
    assert response.status == 403 and f'href="{HOME}"' in html
    line = (await access_line(caplog, reference_of(html))).getMessage()
    assert "reason=csrf_mismatch" in line and f"client_id={app_with_home.client_id}" in line


async def test_dev_mode_shows_the_uri_sent_and_the_ones_registered(make_authorize_client, pool):
    client = await make_client(pool, redirect_uris=(CALLBACK, "https://app.example/other"))
    authorize = await make_authorize_client(dev_mode=True)
    response = await authorize.get("/authorize", params=bad_redirect_params(client.client_id))
    html = await response.text()
    assert response.status == 400
    assert f'<code id="sent-redirect-uri">{SENT}</code>' in html
    assert f"<li><code>{CALLBACK}</code></li>" in html and "<li><code>https://app.example/other</code></li>" in html


async def test_dev_mode_escapes_the_uri_sent(make_authorize_client, web_app):
    authorize = await make_authorize_client(dev_mode=True)
    response = await authorize.get("/authorize", params=dict(bad_redirect_params(web_app.client_id),
                                                             redirect_uri="https://x.example/<script>"))
    html = await response.text()
    assert "<script>" not in html and "https://x.example/&lt;script&gt;" in html


async def test_without_dev_mode_the_uris_are_never_shown(make_authorize_client, web_app):
    authorize = await make_authorize_client(dev_mode=False)
    response = await authorize.get("/authorize", params=bad_redirect_params(web_app.client_id))
    html = await response.text()
    assert response.status == 400
    assert SENT not in html and CALLBACK not in html and "Developer details" not in html
