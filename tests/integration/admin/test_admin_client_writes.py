"""Client writes over the admin API, against real PostgreSQL and Redis: create (secret shown once,
stored as a hash), update in RFC 7591 names, disable/enable (a disabled client's tokens refused by
the real token and resource services), rotate-secret, delete, and every refusal as a problem."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator

import pytest

from services.token.app import create_app as create_token_app
from shared.crypto.digests import sha256_hex
from shared.management.backends import REVOCATION_MARGIN
from tests.integration.admin.conftest import problem
from tests.integration.management.conftest import (
    REDIRECT_URI,
    Suite,
    eventually,
    notes_status,
    refresh,
    refused_by_resource,
    tokens,
)
from tests.integration.resource.conftest import resource_service
from tests.integration.resource.serving import RunningApp
from tests.support.factories import RegisteredClient, make_client, make_user

JSON = {"Content-Type": "application/json"}
NEW = {"client_name": "Orders", "redirect_uris": ["https://orders.example/cb"], "scope": "openid profile"}


async def send(admin, http, method, path, body=None, *, expect=200):
    async with http.request(method, admin.url + path, json=body, headers=admin.auth()) as response:
        assert response.status == expect, await response.text()
        return await response.json()


async def stored(admin, client_id):
    return await admin.pool.fetchrow("SELECT * FROM clients WHERE client_id = $1", client_id)


async def last_audit(admin, event):
    return await admin.pool.fetchrow("SELECT client_id, details FROM audit_events WHERE event_type = $1 "
                                      "ORDER BY id DESC LIMIT 1", event)


async def test_create_answers_the_secret_once_and_stores_only_its_hash(admin, http):
    async with http.post(admin.url + "/admin/v1/clients", json=NEW, headers=admin.auth()) as response:
        assert response.status == 201, await response.text()
        created = await response.json()
        assert response.headers["Location"] == f"/admin/v1/clients/{created['client_id']}"
        assert response.headers["Cache-Control"] == "no-store"
    assert created["client_name"] == "Orders" and created["scope"] == "openid profile"
    assert created["token_endpoint_auth_method"] == "client_secret_basic" and not created["public"]
    assert created["client_secret_expires_at"] == 0
    row = await stored(admin, created["client_id"])
    assert row["secret_hash"] == sha256_hex(created["client_secret"])
    shown = await send(admin, http, "GET", f"/admin/v1/clients/{created['client_id']}")
    assert "client_secret" not in shown and shown == {k: v for k, v in created.items() if "secret" not in k}
    audit = await last_audit(admin, "client_created")
    assert (audit["client_id"], audit["details"]) == (created["client_id"], {"actor": "admin-token:ops"})


async def test_create_a_public_client_with_every_member(admin, http):
    body = {**NEW, "token_endpoint_auth_method": "none", "grant_types": ["authorization_code"],
            "post_logout_redirect_uris": ["https://orders.example/bye"], "allowed_cors_origins": ["https://orders.example"],
            "client_uri": "https://orders.example", "backchannel_logout_uri": None,
            "backchannel_logout_session_required": True, "id_token_signed_response_alg": "RS256"}
    created = await send(admin, http, "POST", "/admin/v1/clients", body, expect=201)
    assert "client_secret" not in created and created["public"]
    assert {k: created[k] for k in body if k != "backchannel_logout_uri"} == {
        k: v for k, v in body.items() if k != "backchannel_logout_uri"}
    assert created["backchannel_logout_uri"] is None


@pytest.mark.parametrize(("body", "detail"), [
    ({**NEW, "redirect_uris": ["https://*.orders.example/cb"]}, "exact"),
    ({**NEW, "redirect_uris": "https://orders.example/cb"}, "redirect_uris must be an array of strings"),
    ({"redirect_uris": ["https://orders.example/cb"]}, "client_name is required"),
    ({**NEW, "scope": "openid orders:read"}, "unknown scope"),
    ({**NEW, "public": True}, "unknown member 'public'"),
    ({**NEW, "token_endpoint_auth_method": "private_key_jwt"}, "auth method"),
    ({**NEW, "client_name": None}, "client_name must be a string"),
    ({**NEW, "backchannel_logout_session_required": "yes"}, "must be true or false"),
    ({**NEW, "client_uri": "http://orders.example"}, "client URI"),
    ({**NEW, "client_uri": "javascript:alert(1)"}, "client URI"),
    ({**NEW, "grant_types": ["refresh_token"]}, "must include authorization_code"),
    ({**NEW, "grant_types": []}, "must include authorization_code"),
    ({**NEW, "response_types": ["token"]}, 'response_types must be ["code"]'),
    ({**NEW, "response_types": []}, 'response_types must be ["code"]'),
], ids=["wildcard redirect URI", "redirect_uris a string", "no client_name", "unknown scope", "unknown member",
        "unsupported auth method", "null name", "boolean as a string", "http client_uri", "script client_uri",
        "refresh_token alone: no first token", "no grant type", "implicit response type", "no response type"])
async def test_create_refuses_an_invalid_body_with_a_422_and_writes_nothing(admin, http, body, detail):
    before = await admin.pool.fetchval("SELECT count(*) FROM clients")
    async with http.post(admin.url + "/admin/v1/clients", json=body, headers=admin.auth()) as response:
        problem_ = await problem(response, 422)
    assert detail in problem_["detail"] and problem_["type"] == "urn:latchkey:problem:invalid-input"
    assert await admin.pool.fetchval("SELECT count(*) FROM clients") == before


@pytest.mark.parametrize(("data", "headers", "status"), [
    (b'{"client_name": "x", ', JSON, 400), (b"", JSON, 400), (b"[1]", JSON, 422),
    (b'{"client_name": "x"}', {"Content-Type": "text/plain"}, 415),
], ids=["malformed JSON", "no body", "not an object", "not JSON"])
async def test_create_refuses_a_body_that_is_not_a_json_object(admin, http, data, headers, status):
    async with http.post(admin.url + "/admin/v1/clients", data=data, headers={**admin.auth(), **headers}) as response:
        await problem(response, status)


async def test_update_changes_rfc7591_members_and_leaves_the_rest(admin, http):
    client = await make_client(admin.pool)
    change = {"client_name": "Renamed", "redirect_uris": ["https://new.example/cb", "https://new.example/cb2"],
              "client_uri": "https://new.example", "scope": "email openid"}
    updated = await send(admin, http, "PATCH", f"/admin/v1/clients/{client.client_id}", change)
    assert {k: updated[k] for k in change} == change
    assert updated["grant_types"] == ["authorization_code", "refresh_token"]  # untouched
    row = await stored(admin, client.client_id)
    assert (row["name"], list(row["redirect_uris"])) == ("Renamed", change["redirect_uris"])
    assert row["secret_hash"] == client.client.secret_hash
    audit = await last_audit(admin, "client_updated")
    assert audit["details"] == {"actor": "admin-token:ops", "fields": ["client_uri", "name", "redirect_uris", "scope"]}
    cleared = await send(admin, http, "PATCH", f"/admin/v1/clients/{client.client_id}", {"client_uri": None})
    assert cleared["client_uri"] is None and cleared["client_name"] == "Renamed"


@pytest.mark.parametrize(("body", "detail"), [
    ({}, "nothing to change"),
    ({"redirect_uris": ["https://app.example/*"]}, "exact"),
    ({"redirect_uris": []}, "at least one redirect URI"),
    ({"token_endpoint_auth_method": "none"}, "public"),
    ({"token_endpoint_auth_method": "tls_client_auth"}, "auth method must be one of"),
    ({"client_name": None}, "client_name must be a string"),
    ({"client_secret": "chosen"}, "unknown member 'client_secret'"),
    ({"grant_types": []}, "must include authorization_code"),
    ({"grant_types": ["refresh_token"]}, "must include authorization_code"),
    ({"response_types": ["code"]}, "nothing to change"),
    ({"client_name": "x", "response_types": ["code", "token"]}, 'response_types must be ["code"]'),
], ids=["empty", "wildcard", "no redirect URI left", "confidential to public", "unknown auth method",
        "null name", "a secret", "no grant type", "refresh_token alone", "response_types alone",
        "another response type"])
async def test_update_refuses_an_invalid_change_and_writes_nothing(admin, http, body, detail):
    client = await make_client(admin.pool)
    before = await stored(admin, client.client_id)
    async with http.patch(admin.url + f"/admin/v1/clients/{client.client_id}", json=body,
                          headers=admin.auth()) as response:
        assert detail in (await problem(response, 422))["detail"]
    assert await stored(admin, client.client_id) == before


@pytest.mark.parametrize(("method", "suffix", "body"), [
    ("PATCH", "", {"client_name": "x"}), ("DELETE", "", None), ("POST", "/disable", None),
    ("POST", "/enable", None), ("POST", "/rotate-secret", None),
])
async def test_an_unknown_client_is_a_404_problem(admin, http, method, suffix, body):
    async with http.request(method, admin.url + "/admin/v1/clients/lk_nobody" + suffix, json=body,
                            headers=admin.auth()) as response:
        assert "lk_nobody" in (await problem(response, 404))["detail"]


async def test_concurrent_patches_of_one_client_are_both_applied(admin, http):
    """The operation holds the row lock: neither read-modify-write loses the other's member."""
    for round_ in range(6):
        client = await make_client(admin.pool)
        path = f"/admin/v1/clients/{client.client_id}"
        await asyncio.gather(send(admin, http, "PATCH", path, {"client_name": f"Name {round_}"}),
                             send(admin, http, "PATCH", path, {"client_uri": f"https://r{round_}.example"}),
                             send(admin, http, "PATCH", path, {"scope": "openid"}))
        row = await stored(admin, client.client_id)
        assert (row["name"], row["client_uri"], sorted(row["allowed_scopes"])) == (
            f"Name {round_}", f"https://r{round_}.example", ["openid"])


async def test_rotate_secret_with_overlap_keeps_the_old_hash_until_then(admin, http):
    client = await make_client(admin.pool)
    path = f"/admin/v1/clients/{client.client_id}/rotate-secret"
    rotated = await send(admin, http, "POST", path, {"overlap_seconds": 60})
    row = await stored(admin, client.client_id)
    assert row["secret_hash"] == sha256_hex(rotated["client_secret"]) != client.client.secret_hash
    assert row["previous_secret_hash"] == client.client.secret_hash
    assert rotated["previous_secret_expires_at"] == int(row["previous_secret_expires_at"].timestamp())
    again = await send(admin, http, "POST", path)  # no body: no overlap
    row = await stored(admin, client.client_id)
    assert row["secret_hash"] == sha256_hex(again["client_secret"]) and row["previous_secret_hash"] is None
    assert (await last_audit(admin, "client_secret_rotated"))["details"] == {"actor": "admin-token:ops",
                                                                           "overlap_seconds": 0}


@pytest.mark.parametrize("body", [{"overlap_seconds": -1}, {"overlap_seconds": True}, {"overlap_seconds": "60"},
                                  {"overlap_seconds": 10**9}, {"overlap": 60}])
async def test_rotate_secret_refuses_a_bad_overlap(admin, http, body):
    client = await make_client(admin.pool)
    async with http.post(admin.url + f"/admin/v1/clients/{client.client_id}/rotate-secret", json=body,
                         headers=admin.auth()) as response:
        await problem(response, 422)
    assert (await stored(admin, client.client_id))["secret_hash"] == client.client.secret_hash


async def test_rotate_secret_of_a_public_client_is_a_422(admin, http):
    client = await make_client(admin.pool, public=True, auth_method="none")
    async with http.post(admin.url + f"/admin/v1/clients/{client.client_id}/rotate-secret",
                         headers=admin.auth()) as response:
        assert "public" in (await problem(response, 422))["detail"]


async def test_delete_answers_the_client_as_it_was_then_404(admin, http):
    client = await make_client(admin.pool)
    deleted = await send(admin, http, "DELETE", f"/admin/v1/clients/{client.client_id}")
    assert deleted["client_id"] == client.client_id and "client_secret" not in deleted
    assert await stored(admin, client.client_id) is None
    assert (await last_audit(admin, "client_deleted"))["client_id"] == client.client_id
    async with http.delete(admin.url + f"/admin/v1/clients/{client.client_id}", headers=admin.auth()) as response:
        await problem(response, 404)


@pytest.fixture(scope="module")
async def services(admin, http) -> AsyncIterator[Suite]:
    """The token and resource services over the admin service's database and the run's Redis."""
    async with RunningApp(create_token_app(admin.settings)) as token:
        async with resource_service(admin.settings, token.url + "/jwks", check_revocation=True) as resource:
            yield Suite(token.url, resource.url, http)


async def test_a_disabled_client_s_tokens_are_refused_and_enable_lets_it_in_again(admin, http, services, redis):
    client: RegisteredClient = await make_client(admin.pool, redirect_uris=(REDIRECT_URI,))
    user = await make_user(admin.pool, admin.settings)
    issued = await tokens(services, redis, admin.settings, client, user)
    assert await notes_status(services, issued["access_token"]) == (200, "")

    disabled = await send(admin, http, "POST", f"/admin/v1/clients/{client.client_id}/disable")
    disabled_at = time.monotonic()
    assert disabled["disabled"] is True and (await stored(admin, client.client_id))["disabled"]
    await eventually(functools.partial(refused_by_resource, services, issued["access_token"]))

    async def refresh_refused() -> bool:
        status, body = await refresh(services, client.client_id, client.secret, issued["refresh_token"])
        return (status, body.get("error")) == (401, "invalid_client")

    await eventually(refresh_refused)
    assert (await last_audit(admin, "client_disabled"))["details"] == {"actor": "admin-token:ops"}

    enabled = await send(admin, http, "POST", f"/admin/v1/clients/{client.client_id}/enable")
    assert enabled["disabled"] is False
    # Tokens minted within REVOCATION_MARGIN seconds of the disable are refused too: wait it out.
    await asyncio.sleep(max(0.0, REVOCATION_MARGIN + 1.1 - (time.monotonic() - disabled_at)))
    fresh = await tokens(services, redis, admin.settings, client, user)
    assert await notes_status(services, fresh["access_token"]) == (200, "")
    status, body = await refresh(services, client.client_id, client.secret, issued["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")  # revoked by the disable, for good


async def test_response_types_may_be_stated_and_is_always_shown(admin, http):
    """RFC 7591 §2: optional with the default ["code"], the only flow served; §3.2.1: the server
    answers every value it registered, its defaults included."""
    created = await send(admin, http, "POST", "/admin/v1/clients", {**NEW, "response_types": ["code"]}, expect=201)
    assert created["response_types"] == ["code"]
    plain = await send(admin, http, "POST", "/admin/v1/clients", NEW, expect=201)
    shown = await send(admin, http, "GET", f"/admin/v1/clients/{plain['client_id']}")
    assert shown["response_types"] == ["code"]
    assert (await send(admin, http, "PATCH", f"/admin/v1/clients/{plain['client_id']}",
                       {"client_name": "Renamed", "response_types": ["code"]}))["client_name"] == "Renamed"
