"""Building blocks of the token-service tests: codes straight into the code store (as the
authorize service would leave them), token requests with each client authentication method,
and reading tokens back with the service's own JWKS."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote_plus

import jwt
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from services.token.app import create_app
from shared.config import Settings
from shared.crypto.digests import new_secret
from shared.models import AuthorizationGrant, User
from shared.pkce import s256_challenge
from shared.stores.redis_codes import RedisCodeStore
from tests.support.factories import RegisteredClient
from tests.support.secrets import logged_test_server, register, register_tokens
from tests.support.typed import AppClient

REDIRECT_URI = "https://app.example/callback"


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[AppClient]:
    """The token app with these settings behind aiohttp's test server (cleanup_ctx run in full)."""
    async with TestClient(logged_test_server(create_app(settings))) as http:
        yield http


@dataclasses.dataclass(frozen=True)
class IssuedCode:
    code: str
    verifier: str | None
    grant: AuthorizationGrant


async def issue_code(redis: Redis, settings: Settings, client: RegisteredClient, user: User, *,
                     scope: str = "openid offline_access notes:read", redirect_uri: str = REDIRECT_URI,
                     pkce: bool = True, nonce: str | None = "n-0S6_WzA2Mj", resource: str | None = None,
                     ttl: int = 60, auth_time: int | None = None, sid: str | None = None) -> IssuedCode:
    verifier = new_secret(32) if pkce else None
    grant = AuthorizationGrant(
        client_id=client.client_id, redirect_uri=redirect_uri, scope=tuple(scope.split()), user_id=str(user.id),
        auth_time=auth_time or int(time.time()) - 5, nonce=nonce,
        code_challenge=s256_challenge(verifier) if verifier else None,
        code_challenge_method="S256" if verifier else None, resource=resource, grant_id=str(uuid.uuid4()),
        sid=sid,
    )
    code = new_secret(32)
    register(code, verifier)
    await RedisCodeStore(redis, settings.redis_prefix).save(code, grant, ttl)
    return IssuedCode(code, verifier, grant)


def basic(client_id: str, secret: str) -> str:
    """RFC 6749 §2.3.1 / Appendix B: each half form-urlencoded, then base64."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def credentials(client: RegisteredClient, form: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(form, headers) authenticating as the client's registered method."""
    method = client.client.token_endpoint_auth_method
    if method == "client_secret_basic":
        return form, {"Authorization": basic(client.client_id, client.secret or "")}
    if method == "client_secret_post":
        return {**form, "client_id": client.client_id, "client_secret": client.secret or ""}, {}
    return {**form, "client_id": client.client_id}, {}


async def post_form(http: AppClient, path: str, client: RegisteredClient | None, form: dict[str, str],
                    headers: dict[str, str] | None = None) -> ClientResponse:
    extra = dict(headers or {})
    if client is not None:
        form, auth = credentials(client, form)
        extra = {**auth, **extra}
    response = await http.post(path, data=form, headers=extra)
    if response.status == 200 and response.content_type == "application/json":
        register_tokens(await response.json())  # the body is kept: callers read it again
    return response


def code_form(issued: IssuedCode, **changes: str | None) -> dict[str, str]:
    form = {"grant_type": "authorization_code", "code": issued.code, "redirect_uri": issued.grant.redirect_uri}
    if issued.verifier:
        form["code_verifier"] = issued.verifier
    form.update(changes)  # type: ignore[arg-type]
    return {k: v for k, v in form.items() if v is not None}


async def exchange(http: AppClient, client: RegisteredClient, issued: IssuedCode,
                   **changes: str | None) -> ClientResponse:
    return await post_form(http, "/token", client, code_form(issued, **changes))


async def refresh(http: AppClient, client: RegisteredClient, refresh_token: str, **extra: str) -> ClientResponse:
    return await post_form(http, "/token", client, {"grant_type": "refresh_token", "refresh_token": refresh_token,
                                                    **extra})


async def jwks(http: AppClient) -> dict[str, jwt.PyJWK]:
    document = await (await http.get("/jwks")).json()
    return {k["kid"]: jwt.PyJWK(k) for k in document["keys"]}


async def decode(http: AppClient, token: str, *, audience: str, issuer: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) of a token verified with a key from the service's JWKS."""
    header = jwt.get_unverified_header(token)
    key = (await jwks(http))[header["kid"]]
    return header, jwt.decode(token, key.key, algorithms=[key.algorithm_name], audience=audience, issuer=issuer)


async def error_of(response: ClientResponse) -> str:
    value: str = (await response.json())["error"]
    return value
