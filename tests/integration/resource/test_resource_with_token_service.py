"""The verifier against the real token service: tokens from its /token endpoint (a code saved
through RedisCodeStore, as the authorize service leaves it), keys from its real /jwks, and
variants minted by its own minting module with its own active key, one claim changed at a time.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import jwt
import pytest

from services.token.app import create_app as create_token_app
from services.token.core.claims import AccessPlan, access_token_claims, id_token_claims
from shared.crypto.digests import new_secret, sha256_b64url
from shared.crypto.signing_keys import SigningKey
from shared.keyring import load_signing_key
from shared.models import AuthorizationGrant
from shared.stores.pg_signing_keys import PgSigningKeys
from shared.stores.redis_codes import RedisCodeStore
from shared.tokens.jws_sign import JwsSigner
from shared.tokens.minting import mint_access_token, mint_id_token
from tests.integration.resource.conftest import resource_service
from tests.integration.resource.minting import bearer_header, forge_alg_none, forge_hs256_with_public_key, new_key
from tests.integration.resource.serving import RunningApp
from tests.support.factories import RegisteredClient, make_client

REDIRECT_URI = "https://app.example/callback"
ALL_SCOPES = "openid profile email offline_access notes:read notes:write"


@dataclass
class Suite:
    token_url: str
    resource_url: str


@pytest.fixture(scope="module")
async def suite(settings) -> AsyncIterator[Suite]:
    async with RunningApp(create_token_app(settings)) as token:
        async with resource_service(settings, token.url + "/jwks", check_revocation=True) as resource:
            yield Suite(token.url, resource.url)


@pytest.fixture
async def client(pool) -> RegisteredClient:
    return await make_client(pool, redirect_uris=(REDIRECT_URI,))


async def tokens_from_token_service(http, suite: Suite, redis, settings, client: RegisteredClient, user,
                                    scope: str = ALL_SCOPES, resource: str | None = None) -> dict[str, Any]:
    """The whole code exchange over HTTP: what a client gets back from POST /token."""
    verifier, code = new_secret(32), new_secret(32)
    grant = AuthorizationGrant(
        client_id=client.client_id, redirect_uri=REDIRECT_URI, scope=tuple(scope.split()), user_id=str(user.id),
        auth_time=int(time.time()) - 5, nonce="n-1", code_challenge=sha256_b64url(verifier),
        code_challenge_method="S256", grant_id=str(uuid.uuid4()), resource=resource)
    await RedisCodeStore(redis, settings.redis_prefix).save(code, grant, 60)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    async with http.post(suite.token_url + "/token", data=form, headers=_basic(client)) as response:
        assert response.status == 200, await response.text()
        tokens: dict[str, Any] = await response.json()
        return tokens


def _basic(client: RegisteredClient) -> dict[str, str]:
    pair = f"{quote_plus(client.client_id)}:{quote_plus(client.secret or '')}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


async def _get(http, url: str, token: str) -> tuple[int, str, Any]:
    async with http.get(url, headers=bearer_header(token)) as response:
        body = await response.json() if response.content_length else None
        return response.status, response.headers.get("WWW-Authenticate", ""), body


async def test_real_access_token_reads_userinfo_and_notes(http, suite, redis, settings, client, user):
    tokens = await tokens_from_token_service(http, suite, redis, settings, client, user)
    status, _, claims = await _get(http, suite.resource_url + "/userinfo", tokens["access_token"])
    assert status == 200
    assert claims == {"sub": str(user.id), "name": "Ada Lovelace", "preferred_username": user.username,
                      "email": "ada@example.com", "email_verified": True}
    assert (await _get(http, suite.resource_url + "/api/notes", tokens["access_token"]))[0] == 200


@pytest.mark.parametrize("scope, at_userinfo", [("openid profile", 200), ("profile", 401)],
                         ids=["an OpenID request", "an OAuth request"])
async def test_a_token_for_another_api_reads_userinfo_only_from_an_openid_request(
        http, suite, redis, settings, client, user, scope, at_userinfo):
    """OIDC Core §5.3.1: the access token of an OpenID request is good at userinfo, whichever API
    (RFC 8707 resource) it is for: its aud names that API and the userinfo endpoint. The
    resource service's own API, another audience, still refuses it."""
    orders = "https://orders.example"
    tokens = await tokens_from_token_service(http, suite, redis, settings, client, user, scope=scope, resource=orders)
    aud = jwt.decode(tokens["access_token"], options={"verify_signature": False})["aud"]
    assert aud == ([orders, settings.userinfo_audience] if "openid" in scope else orders)
    status, challenge, claims = await _get(http, suite.resource_url + "/userinfo", tokens["access_token"])
    assert status == at_userinfo
    if status == 200:
        assert claims["sub"] == str(user.id) and claims["name"] == "Ada Lovelace"
    else:
        assert "token not meant for this API (aud)" in challenge
    status, challenge, _ = await _get(http, suite.resource_url + "/api/whoami", tokens["access_token"])
    assert status == 401 and "token not meant for this API (aud)" in challenge


async def test_real_id_token_is_not_an_access_token(http, suite, redis, settings, client, user):
    tokens = await tokens_from_token_service(http, suite, redis, settings, client, user)
    status, challenge, _ = await _get(http, suite.resource_url + "/userinfo", tokens["id_token"])
    assert status == 401 and 'error="invalid_token"' in challenge and "at+jwt" in challenge


async def test_real_token_without_the_scope_is_403(http, suite, redis, settings, client, user):
    tokens = await tokens_from_token_service(http, suite, redis, settings, client, user, scope="openid notes:read")
    async with http.post(suite.resource_url + "/api/notes", json={"body": "x"},
                         headers=bearer_header(tokens["access_token"])) as response:
        assert response.status == 403
        assert 'error="insufficient_scope", error_description="requires scope notes:write", scope="notes:write"' \
            in response.headers["WWW-Authenticate"]


async def test_token_revoked_at_the_token_service_is_refused(http, suite, redis, settings, client, user):
    tokens = await tokens_from_token_service(http, suite, redis, settings, client, user)
    assert (await _get(http, suite.resource_url + "/api/notes", tokens["access_token"]))[0] == 200
    form = {"token": tokens["access_token"], "token_type_hint": "access_token"}
    async with http.post(suite.token_url + "/revoke", data=form, headers=_basic(client)) as response:
        assert response.status == 200
    status, challenge, _ = await _get(http, suite.resource_url + "/api/notes", tokens["access_token"])
    assert status == 401 and "token revoked" in challenge


async def test_refreshed_access_token_works(http, suite, redis, settings, client, user):
    tokens = await tokens_from_token_service(http, suite, redis, settings, client, user)
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    async with http.post(suite.token_url + "/token", data=form, headers=_basic(client)) as response:
        assert response.status == 200
        refreshed = await response.json()
    assert (await _get(http, suite.resource_url + "/api/notes", refreshed["access_token"]))[0] == 200


@pytest.fixture
async def real_signer(suite, pool, settings) -> JwsSigner:
    """The token service's active key, decrypted as the service does, for one-change variants."""
    stored = await PgSigningKeys(pool).active(settings.signing_alg)
    assert stored is not None
    return JwsSigner(load_signing_key(stored, settings.key_encryption_key))


def _claims(settings, user, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = access_token_claims(AccessPlan.new(now, settings.access_token_ttl), issuer=settings.issuer,
                                 subject=str(user.id), audience=settings.access_audience, client_id="c",
                                 scope="openid notes:read", auth_time=now)
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


# Each variant's claim changes, given the time of the request.
VARIANTS = {
    "as the token service mints it": (lambda now: {}, 200, None),
    "wrong issuer": (lambda now: {"iss": "https://evil.example"}, 401, "wrong issuer"),
    "wrong audience": (lambda now: {"aud": "https://another-api.example"}, 401, "aud"),
    "expired": (lambda now: {"exp": now - 120, "iat": now - 900}, 401, "expired"),
    "not yet valid": (lambda now: {"nbf": now + 600}, 401, "not yet valid"),
    "missing jti": (lambda now: {"jti": None}, 401, "jti claim missing"),
    "missing scope": (lambda now: {"scope": "openid"}, 403, "requires scope notes:read"),
}


@pytest.mark.parametrize("changes, status, why", VARIANTS.values(), ids=VARIANTS.keys())
async def test_minted_with_the_real_key(http, suite, settings, user, real_signer, changes, status, why):
    token = mint_access_token(real_signer, _claims(settings, user, **changes(int(time.time()))))
    got_status, challenge, _ = await _get(http, suite.resource_url + "/api/notes", token)
    assert got_status == status
    if why:
        assert why in challenge


async def test_id_token_from_the_minting_module_is_refused(http, suite, settings, user, real_signer):
    claims = id_token_claims(issuer=settings.issuer, subject=str(user.id), client_id="c", now=int(time.time()),
                             ttl=300, auth_time=int(time.time()), nonce="n")
    id_token = mint_id_token(real_signer, claims, access_token="irrelevant")
    status, challenge, _ = await _get(http, suite.resource_url + "/userinfo", id_token)
    assert status == 401 and "at+jwt" in challenge


async def test_forgeries_against_the_real_jwks(http, suite, settings, user, real_signer):
    async with http.get(suite.token_url + "/jwks") as response:
        published = {k["kid"]: k for k in (await response.json())["keys"]}
    real_public = published[real_signer.kid]
    claims = _claims(settings, user)
    stranger = new_key()

    class PublishedKey:  # what an attacker has: the kid and the public JWK
        kid, public_jwk = real_signer.kid, real_public

    forged = {
        "alg none": forge_alg_none(real_signer.kid, claims),
        "HS256 with the published JWK": forge_hs256_with_public_key(PublishedKey(), claims),
        "HS256 with the modulus": forge_hs256_with_public_key(PublishedKey(), claims, secret=real_public["n"].encode()),
        "unknown kid": mint_access_token(JwsSigner(SigningKey(stranger.kid, stranger.alg, stranger.private_key,
                                                              stranger.public_jwk)), claims),
    }
    for name, token in forged.items():
        status, challenge, _ = await _get(http, suite.resource_url + "/api/notes", token)
        assert (status, 'error="invalid_token"' in challenge) == (401, True), name

