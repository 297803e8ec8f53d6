"""Every verifier rule over HTTP against the running resource service (RFC 6750 §3, RFC 9068 §4,
RFC 8725 §2-3): real and forged tokens, what the client sees (status, error, challenge).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shared.stores.redis_denylist import RedisDenylist
from tests.integration.resource.conftest import resource_service
from tests.integration.resource.minting import (
    access_claims,
    bearer_header,
    forge_alg_none,
    forge_hs256_with_public_key,
    forge_raw_header,
    mint,
    new_key,
    retyped,
)
from tests.integration.resource.serving import JwksServer


@dataclass
class Ctx:
    settings: Any
    user: Any
    key: Any
    ec_key: Any
    evil: JwksServer

    def claims(self, scope: str = "openid notes:read", **changes: Any) -> dict[str, Any]:
        return access_claims(self.settings, str(self.user.id), scope, **changes)

    def token(self, scope: str = "openid notes:read", **changes: Any) -> str:
        return mint(self.key, self.claims(scope, **changes))


@dataclass
class Case:
    request: Callable[[Ctx], dict[str, Any]]  # keyword arguments for session.request
    status: int
    error: str | None = None
    challenge: str | None = None  # expected WWW-Authenticate, or a fragment of it
    exact_challenge: bool = False
    path: str = "/api/notes"
    method: str = "GET"


def header(make: Callable[[Ctx], str]) -> Callable[[Ctx], dict[str, Any]]:
    return lambda ctx: {"headers": bearer_header(make(ctx))}


def now() -> int:
    return int(time.time())


CASES = {
    "valid token is accepted": Case(header(lambda c: c.token()), 200),
    "ES256 key from the same JWKS is accepted": Case(header(lambda c: mint(c.ec_key, c.claims())), 200),
    "application/at+jwt typ is accepted": Case(header(lambda c: mint(c.key, c.claims(), typ="application/at+jwt")),
                                               200),
    "no token gets a bare challenge": Case(lambda c: {}, 401, None, 'Bearer realm="latchkey"', exact_challenge=True),
    "token in the query string is ignored": Case(lambda c: {"params": {"access_token": c.token()}}, 401, None,
                                                 'Bearer realm="latchkey"', exact_challenge=True),
    "Basic credentials are no bearer token": Case(lambda c: {"headers": {"Authorization": "Basic dTpw"}}, 401, None,
                                                  'Bearer realm="latchkey"', exact_challenge=True),
    "malformed Authorization header": Case(lambda c: {"headers": {"Authorization": "Bearer a b"}}, 400,
                                           "invalid_request", 'error="invalid_request"'),
    "token sent in header and form body": Case(
        lambda c: {"headers": bearer_header(c.token()), "data": {"access_token": c.token()}}, 400,
        "invalid_request", 'error="invalid_request"', path="/userinfo", method="POST"),
    "garbage token": Case(header(lambda c: "not.a.jwt"), 401, "invalid_token", 'error="invalid_token"'),
    "alg none": Case(header(lambda c: forge_alg_none(c.key.kid, c.claims())), 401, "invalid_token",
                     'error="invalid_token"'),
    "HS256 keyed with the public JWK": Case(header(lambda c: forge_hs256_with_public_key(c.key, c.claims())),
                                            401, "invalid_token"),
    "HS256 keyed with the public PEM": Case(header(lambda c: forge_hs256_with_public_key(
        c.key, c.claims(), secret=c.key.private_key.public_key().public_bytes(Encoding.PEM,
                                                                              PublicFormat.SubjectPublicKeyInfo))),
        401, "invalid_token"),
    "header alg RS256 on the ES256 key": Case(header(lambda c: retyped(mint(c.ec_key, c.claims()), alg="RS256")),
                                              401, "invalid_token"),
    "unknown kid": Case(header(lambda c: mint(new_key(), c.claims())), 401, "invalid_token"),
    "attacker key reusing our kid": Case(header(lambda c: retyped(mint(new_key(), c.claims()), kid=c.key.kid)),
                                         401, "invalid_token"),
    "jku pointing elsewhere": Case(header(lambda c: mint(c.key, c.claims(), jku=c.evil.url)), 401, "invalid_token"),
    "x5u pointing elsewhere": Case(header(lambda c: mint(c.key, c.claims(), x5u=c.evil.url)), 401, "invalid_token"),
    "embedded jwk of the attacker": Case(header(lambda c: mint(c.key, c.claims(), jwk=new_key().public_jwk)),
                                         401, "invalid_token"),
    "x5c chain": Case(header(lambda c: mint(c.key, c.claims(), x5c=["MIIBIjANBg"])), 401, "invalid_token"),
    "wrong issuer": Case(header(lambda c: c.token(iss="https://evil.example")), 401, "invalid_token"),
    "issuer with a trailing slash": Case(header(lambda c: c.token(iss=c.settings.issuer + "/")), 401, "invalid_token"),
    "wrong audience": Case(header(lambda c: c.token(aud="https://other-api.example")), 401, "invalid_token"),
    "audience list containing this API": Case(header(lambda c: c.token(
        aud=["https://other-api.example", c.settings.access_audience])), 200),
    "expired beyond leeway": Case(header(lambda c: c.token(exp=now() - c.settings.clock_leeway - 5, iat=now() - 600)),
                                  401, "invalid_token", "expired"),
    "expired within leeway": Case(header(lambda c: c.token(exp=now() - 5, iat=now() - 600)), 200),
    "not yet valid": Case(header(lambda c: c.token(nbf=now() + c.settings.clock_leeway + 60)), 401, "invalid_token"),
    "issued in the future": Case(header(lambda c: c.token(iat=now() + 3600, exp=now() + 7200)), 401, "invalid_token"),
    "missing jti": Case(header(lambda c: c.token(jti=None)), 401, "invalid_token", "jti claim missing"),
    "missing client_id": Case(header(lambda c: c.token(client_id=None)), 401, "invalid_token"),
    "ID token used as access token": Case(header(lambda c: mint(c.key, c.claims(
        aud="test-client", nonce="n", client_id=None), typ="JWT")), 401, "invalid_token"),
    "access claims under typ JWT": Case(header(lambda c: mint(c.key, c.claims(), typ="JWT")), 401, "invalid_token",
                                        "typ must be at+jwt"),
    # Forged headers and claims of the wrong JSON type: 401 invalid_token, never a 500.
    "header alg a list": Case(header(lambda c: forge_raw_header(
        b'{"typ":"at+jwt","alg":["RS256"],"kid":"k"}', c.claims())), 401, "invalid_token", "algorithm not accepted"),
    "header kid an object": Case(header(lambda c: forge_raw_header(
        b'{"typ":"at+jwt","alg":"RS256","kid":{"a":1}}', c.claims())), 401, "invalid_token", "kid header missing"),
    "5 KB of nested arrays as the header": Case(header(lambda c: forge_raw_header(b"[" * 5000, c.claims())),
                                                401, "invalid_token", "malformed token"),
    "signed exp Infinity": Case(header(lambda c: c.token(exp=float("inf"))), 401, "invalid_token",
                                "exp claim malformed"),
    "signed iat NaN": Case(header(lambda c: c.token(iat=float("nan"))), 401, "invalid_token", "iat claim malformed"),
    "signed aud a number": Case(header(lambda c: c.token(aud=7)), 401, "invalid_token", "aud claim malformed"),
    "signed scope a list": Case(header(lambda c: mint(c.key, {**c.claims(), "scope": ["notes:read"]})), 401,
                                "invalid_token", "scope claim malformed"),
    "missing scope": Case(header(lambda c: c.token(scope="openid")), 403, "insufficient_scope",
                          'error="insufficient_scope"'),
    "form body token on POST /userinfo": Case(lambda c: {"data": {"access_token": c.token()}}, 200,
                                              path="/userinfo", method="POST"),
}


@pytest.fixture
async def ctx(settings, user, signing_key, ec_key):
    async with JwksServer([new_key().public_jwk]) as evil:
        yield Ctx(settings, user, signing_key, ec_key, evil)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_bearer_rule(http, resource_url, ctx, case: Case):
    async with http.request(case.method, resource_url + case.path, **case.request(ctx)) as response:
        body = await response.read()
        challenge = response.headers.get("WWW-Authenticate")
        assert response.status == case.status, body
        assert response.headers.get("Cache-Control") == "no-store"
    if case.error is not None:
        assert (await response.json())["error"] == case.error
        assert f'error="{case.error}"' in challenge
    if case.status in (400, 401, 403):
        assert challenge.startswith('Bearer realm="latchkey"')
    if case.exact_challenge:
        assert challenge == case.challenge and body == b""
    elif case.challenge:
        assert case.challenge in challenge
    assert ctx.evil.hits == 0  # nothing in a token makes the verifier fetch anything


async def test_insufficient_scope_names_the_needed_scope(http, resource_url, ctx):
    async with http.post(resource_url + "/api/notes", json={"body": "x"},
                         headers=bearer_header(ctx.token("openid notes:read"))) as response:
        assert response.status == 403
        assert 'scope="notes:write"' in response.headers["WWW-Authenticate"]


async def test_revoked_jti_is_refused(http, resource_url, ctx, redis, settings):
    claims = ctx.claims()
    token = mint(ctx.key, claims)
    async with http.get(resource_url + "/api/notes", headers=bearer_header(token)) as response:
        assert response.status == 200
    await RedisDenylist(redis, settings.redis_prefix).add(claims["jti"], datetime.fromtimestamp(claims["exp"], UTC))
    async with http.get(resource_url + "/api/notes", headers=bearer_header(token)) as response:
        assert response.status == 401
        assert (await response.json()) == {"error": "invalid_token", "error_description": "token revoked"}


async def test_health_checks_need_no_token(http, resource_url):
    for path in ("/healthz", "/readyz"):
        async with http.get(resource_url + path) as response:
            assert response.status == 200, path


async def test_unreachable_denylist_is_503_not_acceptance(http, settings, user, signing_key, jwks_server):
    token = mint(signing_key, access_claims(settings, str(user.id), "notes:read"))
    async with resource_service(settings, jwks_server.url, check_revocation=True,
                                redis_url="redis://127.0.0.1:1/0") as api:
        async with http.get(api.url + "/api/notes", headers=bearer_header(token)) as response:
            assert response.status == 503
            assert response.headers["WWW-Authenticate"].startswith("Bearer ")
