"""/metrics of the resource service: refused bearer tokens by reason, JWKS fetches, and HTTP
requests labelled by route template (never the id in the path)."""

from __future__ import annotations

import ipaddress
import time
import uuid

import pytest

from tests.integration.resource.conftest import resource_service
from tests.integration.resource.minting import access_claims, bearer_header, mint, new_key
from tests.support.metrics import moved, scrape, value

EVENTS = "latchkey_security_events_total"


async def _get(http, url, token):
    async with http.get(url, headers=bearer_header(token)) as response:
        return response.status


@pytest.mark.parametrize("reason", ["expired", "bad_signature", "unknown_kid", "wrong_audience"])
async def test_a_refused_token_counts_its_reason_and_one_security_event(http, resource_url, settings, user,
                                                                        signing_key, reason):
    claims = access_claims(settings, str(user.id), "notes:read")
    if reason == "expired":
        token = mint(signing_key, {**claims, "exp": int(time.time()) - 3600, "iat": int(time.time()) - 4000})
    elif reason == "bad_signature":
        token = mint(signing_key, claims)[:-8] + "AAAAAAAA"
    elif reason == "unknown_kid":
        token = mint(new_key(), claims)
    else:
        token = mint(signing_key, {**claims, "aud": "https://other-api.example"})
    before = await scrape(http, resource_url + "/metrics")
    assert await _get(http, resource_url + "/api/notes", token) == 401
    after = await scrape(http, resource_url + "/metrics")
    assert moved(before, after, "latchkey_bearer_refused_total", reason=reason) == 1
    assert moved(before, after, EVENTS, event="bearer_refused") == 1


@pytest.mark.parametrize("path, scope", [("/userinfo", "openid"), ("/api/notes", "notes:read")])
async def test_a_token_of_a_user_who_is_gone_is_counted_as_refused(http, resource_url, settings, signing_key, path,
                                                                   scope):
    """Refused by the service's own check, not the verifier's: counted all the same."""
    token = mint(signing_key, access_claims(settings, str(uuid.uuid4()), scope))
    before = await scrape(http, resource_url + "/metrics")
    assert await _get(http, resource_url + path, token) == 401
    after = await scrape(http, resource_url + "/metrics")
    assert moved(before, after, "latchkey_bearer_refused_total", reason="inactive_user") == 1
    assert moved(before, after, EVENTS, event="bearer_refused") == 1


async def test_a_note_request_is_labelled_with_the_route_template(http, resource_url, user, token_for):
    before = await scrape(http, resource_url + "/metrics")
    note_id = uuid.uuid4()
    assert await _get(http, f"{resource_url}/api/notes/{note_id}", token_for(user, "notes:read")) == 404
    after = await scrape(http, resource_url + "/metrics")
    assert moved(before, after, "latchkey_http_requests_total", route="/api/notes/{note_id}", method="GET",
                 status_class="4xx") == 1
    assert not any(str(note_id) in value for (_, labels) in after for _, value in labels)
    assert value(after, "latchkey_jwks_fetches_total", outcome="ok") >= 1


async def test_an_unknown_address_is_labelled_unmatched(http, resource_url):
    before = await scrape(http, resource_url + "/metrics")
    async with http.get(resource_url + "/no/such/thing/12345") as response:
        assert response.status in (401, 404)
    after = await scrape(http, resource_url + "/metrics")
    assert moved(before, after, "latchkey_http_requests_total", route="unmatched", method="GET",
                 status_class="4xx") == 1
    assert not any("12345" in v for (_, labels) in after for _, v in labels)


async def test_metrics_from_a_peer_outside_the_allow_list_is_404_not_a_bearer_challenge(http, settings, jwks_server):
    """CONTRACT: /metrics answers 404 to addresses outside LATCHKEY_METRICS_ALLOW (here every
    path needs a token: without the exemption the bearer check answered 401 first)."""
    elsewhere = (ipaddress.ip_network("10.0.0.0/8"),)
    async with resource_service(settings, jwks_server.url, metrics_allow=elsewhere) as resource:
        async with http.get(resource.url + "/metrics") as refused:
            assert refused.status == 404 and "WWW-Authenticate" not in refused.headers
            assert "latchkey_" not in await refused.text()
        async with http.get(resource.url + "/api/whoami") as guarded:
            assert guarded.status == 401  # the exemption is that path's only
