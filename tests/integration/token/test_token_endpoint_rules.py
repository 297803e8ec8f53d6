"""POST /token before any grant logic: body format, client authentication, grant types
(RFC 6749 §2.3, §3.2, §5.2) and the headers of every answer."""

from __future__ import annotations

import base64
import ipaddress
from typing import Any

import pytest

from shared.crypto.digests import sha256_hex
from shared.models import Client
from shared.stores.pg_clients import PgClients
from tests.integration.token.helpers import basic, code_form, error_of, exchange, issue_code, post_form
from tests.support.factories import RegisteredClient, make_client
from tests.support.typed import present


async def audit_rows(pool, client_id: str | None, event: str = "client_auth_failure") -> list[dict[str, Any]]:
    rows = await pool.fetch("SELECT * FROM audit_events WHERE event_type = $1 AND client_id IS NOT DISTINCT FROM $2",
                            event, client_id)
    return [dict(r) for r in rows]


@pytest.mark.parametrize("content_type, body", [
    ("application/json", b'{"grant_type": "authorization_code"}'),
    ("multipart/form-data; boundary=x", b"--x--"),
    ("text/plain", b"grant_type=authorization_code"),
], ids=["json", "multipart", "text/plain"])
async def test_only_form_bodies_are_accepted(http, app_client, content_type, body):
    response = await http.post("/token", data=body, headers={
        "Content-Type": content_type, "Authorization": basic(app_client.client_id, app_client.secret)})
    assert response.status == 400 and await error_of(response) == "invalid_request"


async def test_a_repeated_parameter_is_invalid_request(http, app_client):
    response = await http.post("/token", data="grant_type=authorization_code&code=a&code=b", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Authorization": basic(app_client.client_id,
                                                                                    app_client.secret)})
    assert response.status == 400 and await error_of(response) == "invalid_request"
    assert "code" in (await response.json())["error_description"]


async def test_a_body_over_the_limit_is_413_json(http, settings, app_client):
    response = await http.post("/token", data="code=" + "x" * settings.max_body_bytes, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Authorization": basic(app_client.client_id,
                                                                                    app_client.secret)})
    assert response.status == 413 and await error_of(response) == "invalid_request"


@pytest.mark.parametrize("grant_type, error", [
    ("password", "unsupported_grant_type"), ("client_credentials", "unsupported_grant_type"),
    ("urn:ietf:params:oauth:grant-type:device_code", "unsupported_grant_type"), (None, "invalid_request"),
], ids=["password", "client_credentials", "device_code", "no grant_type"])
async def test_only_code_and_refresh_grants_are_supported(http, app_client, grant_type, error):
    form = {"grant_type": grant_type} if grant_type else {"code": "x"}
    response = await http.post("/token", data=form, headers={"Authorization": basic(app_client.client_id,
                                                                                    app_client.secret)})
    assert response.status == 400 and await error_of(response) == error


async def test_a_grant_the_client_was_not_registered_for_is_unauthorized_client(http, pool):
    client = await make_client(pool, grant_types=["authorization_code"])
    response = await http.post("/token", data={"grant_type": "refresh_token", "refresh_token": "x"},
                               headers={"Authorization": basic(client.client_id, present(client.secret))})
    assert response.status == 400 and await error_of(response) == "unauthorized_client"


async def test_a_wrong_basic_secret_is_401_with_a_basic_challenge_and_audited(http, pool, app_client):
    response = await http.post("/token", data={"grant_type": "authorization_code", "code": "x"},
                               headers={"Authorization": basic(app_client.client_id, "not-the-secret")})
    assert response.status == 401 and await error_of(response) == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Pragma"] == "no-cache"
    [row] = await audit_rows(pool, app_client.client_id)
    assert row["details"]["method"] == "client_secret_basic" and row["details"]["reason"] == "wrong secret"
    assert "not-the-secret" not in str(row) and app_client.secret not in str(row)


@pytest.mark.parametrize("form_auth, reason", [
    ({"client_secret": "wrong"}, "wrong secret"),
    ({}, "used none, registered client_secret_post"),
], ids=["wrong secret in the body", "no secret at all"])
async def test_a_failed_post_authentication_is_401_without_a_challenge(http, pool, post_client, form_auth, reason):
    response = await http.post("/token", data={"grant_type": "authorization_code", "code": "x",
                                                "client_id": post_client.client_id, **form_auth})
    assert response.status == 401 and await error_of(response) == "invalid_client"
    assert "WWW-Authenticate" not in response.headers
    assert [r["details"]["reason"] for r in await audit_rows(pool, post_client.client_id)] == [reason]


@pytest.mark.parametrize("headers, form", [
    ({}, {}),
    ({"Authorization": "Basic %%%"}, {}),
    ({"Authorization": "Bearer abc"}, {}),
    ({}, {"client_id": "lk_nobody", "client_secret": "x"}),
], ids=["no client authentication", "malformed Basic", "a Bearer header", "unknown client"])
async def test_missing_or_broken_client_authentication_is_invalid_client(http, headers, form):
    response = await http.post("/token", data={"grant_type": "authorization_code", "code": "x", **form},
                               headers=headers)
    assert response.status == 401 and await error_of(response) == "invalid_client"
    assert ("WWW-Authenticate" in response.headers) == ("Authorization" in headers)


async def test_two_authentication_methods_at_once_are_invalid_request(http, app_client):
    response = await http.post("/token", data={"grant_type": "authorization_code", "code": "x",
                                                "client_secret": app_client.secret},
                               headers={"Authorization": basic(app_client.client_id, app_client.secret)})
    assert response.status == 400 and await error_of(response) == "invalid_request"


async def test_a_confidential_client_may_send_its_secret_by_either_method(http, redis, settings, app_client, user):
    """Registered for Basic (RFC 7591's default), the secret in the body all the same, as
    openid-client 6 sends it by default: the same secret, so the same client."""
    issued = await issue_code(redis, settings, app_client, user)
    form = {**code_form(issued), "client_id": app_client.client_id, "client_secret": app_client.secret}
    response = await http.post("/token", data=form)
    assert response.status == 200, await response.text()
    wrong = await http.post("/token", data={**form, "client_secret": "wrong"})
    assert wrong.status == 401 and await error_of(wrong) == "invalid_client"


async def test_a_confidential_client_must_send_its_secret(http, app_client):
    response = await http.post("/token", data={"grant_type": "authorization_code", "code": "x",
                                                "client_id": app_client.client_id})
    assert response.status == 401 and await error_of(response) == "invalid_client"


async def test_a_public_client_sending_a_secret_is_refused(http, public_client):
    response = await http.post("/token", data={"grant_type": "authorization_code", "code": "x",
                                                "client_id": public_client.client_id, "client_secret": "guess"})
    assert response.status == 401 and await error_of(response) == "invalid_client"


async def test_basic_credentials_are_form_urlencoded_before_base64(http, pool, redis, settings, user):
    """RFC 6749 Appendix B: an id and secret with ':', '+', '%' and spaces still authenticate."""
    client_id, secret = "lk_odd: id+%", "s3cr:t +%/é"
    await PgClients(pool).create(Client(
        client_id=client_id, name="Odd", secret_hash=sha256_hex(secret), redirect_uris=("https://app.example/callback",
                                                                                        ),
        allowed_scopes=frozenset({"openid"}), grant_types=frozenset({"authorization_code"}),
        token_endpoint_auth_method="client_secret_basic", is_public=False))
    registered = RegisteredClient(present(await PgClients(pool).get(client_id)), secret)
    issued = await issue_code(redis, settings, registered, user, scope="openid")
    assert (await exchange(http, registered, issued)).status == 200
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()  # not urlencoded: wrong
    response = await http.post("/token", data=code_form(issued), headers={"Authorization": f"Basic {raw}"})
    assert response.status == 401


async def test_get_is_not_allowed(http):
    response = await http.get("/token")
    assert response.status == 405
    # OPTIONS: the CORS preflight (services/token/cors.py).
    assert sorted(response.headers["Allow"].replace(" ", "").split(",")) == ["OPTIONS", "POST"]
    assert response.headers["Cache-Control"] == "no-store"


async def test_health_endpoints(http):
    assert (await (await http.get("/healthz")).json())["status"] == "ok"
    ready = await http.get("/readyz")
    assert ready.status == 200 and await ready.json() == {"status": "ok", "postgres": "ok", "redis": "ok"}


async def test_a_store_outage_is_503_temporarily_unavailable(start_token_app, redis, settings, app_client, user):
    issued = await issue_code(redis, settings, app_client, user)
    async with start_token_app(redis_url="redis://127.0.0.1:1/0") as http:  # nothing listens there
        response = await exchange(http, app_client, issued)
        assert response.status == 503 and await error_of(response) == "temporarily_unavailable"
        assert response.headers["Cache-Control"] == "no-store"
        ready = await http.get("/readyz")
        assert ready.status == 503 and (await ready.json())["redis"] == "down"


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize("path", ["/token", "/revoke", "/introspect"])
@pytest.mark.parametrize("body", [
    b"grant_type=authorization_code&code=x&token=x&client_id=lk%00app",
    b"grant_type=authorization_code&code=x&token=x&client_id=lk_app&client_secret=s%00",
    b"grant_type=authorization_code&code=x%0A&token=x&client_id=lk_app",
], ids=["NUL in client_id", "NUL in client_secret", "a line feed in another value"])
async def test_a_control_character_in_the_form_is_invalid_request(http, path, body):
    response = await http.post(path, data=body, headers=FORM)
    assert response.status == 400 and await error_of(response) == "invalid_request"


@pytest.mark.parametrize("path, status, answer", [
    ("/token", 400, {"error": "invalid_grant"}), ("/revoke", 200, None), ("/introspect", 200, {"active": False}),
])
async def test_a_malformed_parameter_these_endpoints_do_not_define_is_ignored(http, app_client, path, status,
                                                                            answer):
    """RFC 6749 §3.2: unrecognized parameters are ignored, even ones no client could have meant."""
    body = b"grant_type=refresh_token&refresh_token=unknown&token=unknown&foo=%01&bar=%ZZ&b%00z=1"
    response = await http.post(path, data=body, headers={
        **FORM, "Authorization": basic(app_client.client_id, app_client.secret)})
    assert response.status == status
    if answer is not None:
        assert {k: v for k, v in (await response.json()).items() if k in answer} == answer


@pytest.mark.parametrize("path", ["/token", "/revoke", "/introspect"])
@pytest.mark.parametrize("pair", [b"lk\x00app:secret", b"lk%00app:secret", b"lk_app:se%00cret"],
                         ids=["raw NUL in the id", "encoded NUL in the id", "encoded NUL in the secret"])
async def test_a_control_character_in_basic_credentials_is_invalid_client(http, path, pair):
    authorization = "Basic " + base64.b64encode(pair).decode()
    response = await http.post(path, data={"grant_type": "authorization_code", "code": "x", "token": "x"},
                               headers={"Authorization": authorization})
    assert response.status == 401 and await error_of(response) == "invalid_client"


async def test_a_nul_resource_on_refresh_is_invalid_request(http, app_client):
    response = await http.post("/token", data=b"grant_type=refresh_token&refresh_token=abc&resource=%00", headers={
        **FORM, "Authorization": basic(app_client.client_id, app_client.secret)})
    assert response.status == 400 and await error_of(response) == "invalid_request"


async def test_error_descriptions_carry_only_the_characters_rfc6749_allows(http, app_client):
    response = await http.post("/token", data=b"grant_type=x%22%5C%C3%A9&code=a&code=%22%5C", headers={
        **FORM, "Authorization": basic(app_client.client_id, app_client.secret)})
    description = (await response.json())["error_description"]
    assert response.status == 400 and description
    assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in description)
    response = await http.post("/token", data={"grant_type": 'x"\\\u00e9'},
                               headers={"Authorization": basic(app_client.client_id, app_client.secret)})
    description = (await response.json())["error_description"]
    assert await error_of(response) == "unsupported_grant_type"
    assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in description)


async def test_audit_records_the_client_behind_a_trusted_proxy(start_token_app, pool, redis, settings, app_client,
                                                               user):
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    async with start_token_app(trusted_proxies=(ipaddress.ip_network("127.0.0.0/8"),
                                                ipaddress.ip_network("::1/128"))) as http:
        await http.post("/token", data={"grant_type": "authorization_code", "code": "x"},
                        headers={"Authorization": basic(app_client.client_id, "wrong"), **forwarded})
        issued = await issue_code(redis, settings, app_client, user)
        await post_form(http, "/token", app_client, code_form(issued, code_verifier="W" * 43), headers=forwarded)
    for event in ("client_auth_failure", "pkce_failure"):
        [row] = await audit_rows(pool, app_client.client_id, event)
        assert str(row["remote_addr"]) == "203.0.113.9", event
