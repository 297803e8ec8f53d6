"""/metrics of the token service after real exchanges: each security event and counter moves by
exactly what happened (docs/contract.md "Operations"), and only allowed peers may read it."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging

from tests.integration.token.helpers import (
    error_of,
    exchange,
    issue_code,
    post_form,
    refresh,
    running,
)
from tests.support.access_lines import access_lines
from tests.support.factories import RegisteredClient
from tests.support.metrics import moved, scrape, value

EVENTS = "latchkey_security_events_total"


async def test_a_replayed_code_counts_one_replay_and_one_redemption(http, redis, settings, app_client, user):
    issued = await issue_code(redis, settings, app_client, user)
    before = await scrape(http)
    assert (await exchange(http, app_client, issued)).status == 200
    replay = await exchange(http, app_client, issued)
    assert replay.status == 400 and await error_of(replay) == "invalid_grant"
    after = await scrape(http)
    assert moved(before, after, EVENTS, event="code_replay") == 1
    assert moved(before, after, "latchkey_authorization_codes_total", outcome="redeemed") == 1
    assert moved(before, after, "latchkey_authorization_codes_total", outcome="replayed") == 1
    assert moved(before, after, "latchkey_authorization_codes_total", outcome="expired_or_unknown") == 0


async def test_an_unknown_code_counts_as_expired_or_unknown_not_replayed(http, redis, settings, app_client, user):
    issued = await issue_code(redis, settings, app_client, user)
    before = await scrape(http)
    assert (await exchange(http, app_client, issued, code="never-issued")).status == 400
    after = await scrape(http)
    assert moved(before, after, "latchkey_authorization_codes_total", outcome="expired_or_unknown") == 1
    assert moved(before, after, EVENTS, event="code_replay") == 0


async def test_a_pkce_failure_counts_once(http, redis, settings, app_client, user):
    issued = await issue_code(redis, settings, app_client, user)
    before = await scrape(http)
    response = await exchange(http, app_client, issued, code_verifier="x" * 43)
    assert response.status == 400 and await error_of(response) == "invalid_grant"
    after = await scrape(http)
    assert moved(before, after, EVENTS, event="pkce_failure") == 1
    assert moved(before, after, "latchkey_pkce_failures_total") == 1
    assert moved(before, after, "latchkey_http_requests_total", route="/token", method="POST", status_class="4xx") == 1


async def test_a_wrong_client_secret_counts_a_client_auth_failure_by_reason(http, redis, settings, app_client, user):
    issued = await issue_code(redis, settings, app_client, user)
    wrong = RegisteredClient(app_client.client, "not-the-secret")
    before = await scrape(http)
    response = await exchange(http, wrong, issued)
    assert response.status == 401 and await error_of(response) == "invalid_client"
    after = await scrape(http)
    assert moved(before, after, EVENTS, event="client_auth_failure") == 1
    assert moved(before, after, "latchkey_client_auth_failures_total", reason="wrong_secret") == 1
    assert moved(before, after, "latchkey_client_auth_failures_total", reason="unknown_client") == 0


async def test_refresh_rotation_and_reuse_are_counted(http, redis, settings, app_client, user):
    issued = await issue_code(redis, settings, app_client, user)
    first = await (await exchange(http, app_client, issued)).json()
    before = await scrape(http)
    assert (await refresh(http, app_client, first["refresh_token"])).status == 200
    reused = await refresh(http, app_client, first["refresh_token"])
    assert reused.status == 400
    after = await scrape(http)
    assert moved(before, after, "latchkey_refresh_tokens_total", outcome="rotated") == 1
    assert moved(before, after, "latchkey_refresh_tokens_total", outcome="reuse_detected") == 1
    assert moved(before, after, EVENTS, event="refresh_reuse") == 1


async def test_a_revocation_counts_the_token_type(http, redis, settings, app_client, user):
    issued = await issue_code(redis, settings, app_client, user)
    tokens = await (await exchange(http, app_client, issued)).json()
    before = await scrape(http)
    revoked = await post_form(http, "/revoke", app_client, {"token": tokens["refresh_token"]})
    assert revoked.status == 200
    after = await scrape(http)
    assert moved(before, after, "latchkey_tokens_revoked_total", token_type="refresh_token") == 1


async def test_dependencies_and_key_ring_are_exported(http, redis, settings, app_client, user):
    issued = await issue_code(redis, settings, app_client, user)
    assert (await exchange(http, app_client, issued)).status == 200
    samples = await scrape(http)
    assert value(samples, "latchkey_signing_keys", alg="RS256", status="active") == 1
    assert value(samples, "latchkey_db_pool_max_connections") == settings.db_pool_max
    assert value(samples, "latchkey_db_pool_connections") >= 1
    assert value(samples, "latchkey_db_pool_waiting") == 0
    assert value(samples, "latchkey_redis_command_duration_seconds_count", command="EVALSHA") >= 1
    assert value(samples, "latchkey_http_requests_in_flight") == 0  # the scrape itself is not counted
    # The adaptive limit starts at its floor and grows only while requests wait on an idle loop.
    assert value(samples, "latchkey_concurrency_limit") == 2


async def test_every_security_event_of_the_contract_is_exported_from_zero(http):
    samples = await scrape(http)
    for event in ("code_replay", "refresh_reuse", "pkce_failure", "client_auth_failure", "login_failure",
                  "login_throttled", "bearer_refused"):
        assert (EVENTS, frozenset({("event", event)})) in samples


async def test_metrics_from_a_peer_outside_the_allow_list_is_an_ordinary_404(settings):
    # The test connects from 127.0.0.1; only 10.0.0.0/8 may scrape.
    elsewhere = dataclasses.replace(settings, metrics_allow=(ipaddress.ip_network("10.0.0.0/8"),))
    async with running(elsewhere) as http:
        refused = await http.get("/metrics")
        unknown = await http.get("/no-such-page")
        assert refused.status == unknown.status == 404
        assert await refused.read() == await unknown.read()
        assert "latchkey_" not in await refused.text()
        # X-Forwarded-For is not the peer: naming an allowed address does not help.
        forwarded = await http.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"})
        assert forwarded.status == 404


async def test_the_request_id_is_echoed_and_taken_only_from_a_trusted_proxy(settings):
    async with running(settings) as http:
        untrusted = await http.get("/jwks", headers={"X-Request-Id": "gateway-id-1"})
        assert untrusted.headers["X-Request-Id"] != "gateway-id-1"
        assert len(untrusted.headers["X-Request-Id"]) == 16
    trusting = dataclasses.replace(settings, trusted_proxies=(ipaddress.ip_network("127.0.0.0/8"),))
    async with running(trusting) as http:
        trusted = await http.get("/jwks", headers={"X-Request-Id": "gateway-id-1"})
        assert trusted.headers["X-Request-Id"] == "gateway-id-1"
        insane = await http.get("/jwks", headers={"X-Request-Id": "x" * 300})
        assert insane.headers["X-Request-Id"] != "x" * 300
        error = await http.post("/token", data={"grant_type": "password"})
        assert error.status >= 400 and "X-Request-Id" in error.headers


async def test_a_scrape_has_a_request_id_and_an_access_line_under_its_own_route(settings, caplog):
    caplog.set_level(logging.INFO, "latchkey.access")
    async with running(settings) as http:
        scrape = await http.get("/metrics")
        assert scrape.status == 200
        request_id = scrape.headers["X-Request-Id"]
        lines = await access_lines(caplog, request_id)
    assert len(lines) == 1 and " GET /metrics 200 " in lines[0], lines
