"""The JWKS (RFC 7517 §5) and key rotation without downtime: a new key is published before it
signs, the old one stays published while its tokens live, replicas agree on the schedule, and
tokens issued during a rotation all verify against the jwks_uri (PyJWT's PyJWKClient)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest

from shared.config import Settings
from shared.db import connect, create_pool
from shared.keyring import create_key
from shared.stores.pg_signing_keys import PgSigningKeys
from tests.integration.token.helpers import exchange, issue_code, running
from tests.support.databases import fresh_database
from tests.support.factories import make_client, make_user
from tests.support.typed import present

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def kid_of(token: str) -> str:
    value: str = jwt.get_unverified_header(token)["kid"]
    return value


async def verify_with_jwks_uri(url: str, tokens: list[tuple[str, str]], issuer: str) -> list[dict[str, Any]]:
    """Verifies (token, audience) pairs with one PyJWKClient, as a relying party would. It
    fetches with urllib (blocking), so it runs in a thread beside the server."""
    def verify() -> list[dict[str, Any]]:
        client = jwt.PyJWKClient(url)
        claims = []
        for token, audience in tokens:
            key = client.get_signing_key_from_jwt(token)
            claims.append(jwt.decode(token, key.key, algorithms=[key.algorithm_name], audience=audience, issuer=issuer))
        return claims
    return await asyncio.to_thread(verify)


async def test_the_jwks_is_public_cacheable_and_verifies_issued_tokens(http, redis, settings, app_client, user):
    response = await http.get("/jwks")
    assert response.status == 200 and response.content_type == "application/json"
    assert response.headers["Cache-Control"] == f"public, max-age={settings.jwks_max_age}"
    keys = (await response.json())["keys"]
    assert keys and len({k["kid"] for k in keys}) == len(keys)
    for key in keys:
        assert key["use"] == "sig" and key["alg"] in ("RS256", "ES256", "EdDSA") and key["kty"] in ("RSA", "EC", "OKP")
        assert not PRIVATE_MEMBERS & key.keys()
    issued = await issue_code(redis, settings, app_client, user, scope="openid")
    body = await (await exchange(http, app_client, issued)).json()
    access, id_token = await verify_with_jwks_uri(
        str(http.make_url("/jwks")), [(body["access_token"], settings.access_audience),
                                      (body["id_token"], app_client.client_id)], settings.issuer)
    assert access["sub"] == id_token["sub"] == str(user.id)


@dataclasses.dataclass
class Private:
    settings: Settings
    pool: object


@pytest.fixture
async def private(server_urls, settings) -> AsyncIterator[Private]:
    """A database of its own (the one active key is global state) and fast rotation timings."""
    async with fresh_database(server_urls[0]) as url:
        # The fastest timings validate() accepts: the key is announced longer than a verifier's
        # cache, refetch cooldown and a poll (0 + 1 + 1 s).
        fast = dataclasses.replace(settings, database_url=url, key_announce=3, jwks_max_age=0, jwks_refetch_cooldown=1,
                                   key_poll_interval=1, key_rotation_check=1)
        fast.validate()
        pool = await create_pool(fast)
        try:
            yield Private(fast, pool)
        finally:
            await pool.close()


async def rotate_now(settings: Settings) -> str:
    """What `latchkey keys rotate` does: announce a new key."""
    conn = await connect(settings)
    try:
        return (await create_key(conn, settings)).kid
    finally:
        await conn.close()


async def wait_until(predicate, timeout: float = 8.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.2)


async def published_kids(http) -> set[str]:
    return {k["kid"] for k in (await (await http.get("/jwks")).json())["keys"]}


async def test_a_new_key_is_published_before_it_signs(private, redis):
    client, user = await make_client(private.pool), await make_user(private.pool, private.settings)
    async with running(private.settings) as http:
        old = present(await PgSigningKeys(private.pool).active("RS256")).kid
        new = await rotate_now(private.settings)
        await wait_until(lambda: _contains(http, new))
        issued = await issue_code(redis, private.settings, client, user)
        body = await (await exchange(http, client, issued)).json()
        assert kid_of(body["access_token"]) == old  # announced, not yet signing
        await wait_until(lambda: _signs_with(http, redis, private.settings, client, user, new))
        assert old in await published_kids(http)  # retired, still published for its live tokens
        statuses = {k.kid: k.status for k in await PgSigningKeys(private.pool).all() if k.alg == "RS256"}
        assert statuses == {old: "retired", new: "active"}


async def _contains(http, kid: str) -> bool:
    return kid in await published_kids(http)


async def _signs_with(http, redis, settings, client, user, kid: str) -> bool:
    issued = await issue_code(redis, settings, client, user, scope="notes:read")
    return kid_of((await (await exchange(http, client, issued)).json())["access_token"]) == kid


async def test_key_rotation_while_tokens_are_in_flight_loses_none(private, redis):
    client, user = await make_client(private.pool), await make_user(private.pool, private.settings)
    settings = private.settings
    issued_tokens: list[tuple[str, str]] = []
    statuses: list[int] = []

    # None shed (four clients in a closed loop on a busy machine can be a standing queue, answered
    # 503 by design): the subject is the rotation, and every exchange must succeed.
    async with running(dataclasses.replace(settings, max_concurrent_requests=8, min_concurrent_requests=8)) as http:
        stop = asyncio.Event()

        async def keep_exchanging() -> None:
            while not stop.is_set():
                issued = await issue_code(redis, settings, client, user, scope="openid notes:read")
                response = await exchange(http, client, issued)
                statuses.append(response.status)
                if response.status == 200:
                    body = await response.json()
                    issued_tokens.append((body["access_token"], body["id_token"]))

        workers = [asyncio.create_task(keep_exchanging()) for _ in range(4)]
        await asyncio.sleep(0.5)
        new = await rotate_now(settings)

        async def new_key_signed_a_while() -> bool:
            return sum(kid_of(access) == new for access, _ in issued_tokens) >= 20

        try:
            await wait_until(new_key_signed_a_while, timeout=20)
        finally:
            stop.set()
            await asyncio.gather(*workers)
        pairs = [pair for access, id_token in issued_tokens
                 for pair in ((access, settings.access_audience), (id_token, client.client_id))]
        verified = await verify_with_jwks_uri(str(http.make_url("/jwks")), pairs, settings.issuer)
        assert len(verified) == 2 * len(issued_tokens)

    assert statuses and set(statuses) == {200}
    kids = [kid_of(access) for access, _ in issued_tokens]
    assert kids[-1] == new and len(set(kids)) == 2  # the rotation happened mid-run
    switch = kids.index(new)
    assert set(kids[switch:]) == {new}  # once the new key signs, the old one never does again


async def test_replicas_follow_one_automatic_schedule(private):
    """Two token services on one database, rotating every 2 s: the advisory lock lets one act at
    a time, so per algorithm there is never more than one announced key and always exactly one
    active."""
    settings = dataclasses.replace(private.settings, key_rotation_interval=2)
    async with running(settings) as first, running(settings) as second:
        initial = present(await PgSigningKeys(private.pool).active("RS256")).kid
        seen_next: list[int] = []
        deadline = time.monotonic() + 20
        while (active := present(await PgSigningKeys(private.pool).active("RS256")).kid) == initial:
            assert time.monotonic() < deadline, "no automatic rotation happened"
            keys = await PgSigningKeys(private.pool).all()
            for alg in settings.key_ring_algs:
                seen_next.append(sum(k.status == "next" and k.alg == alg for k in keys))
                assert sum(k.status == "active" and k.alg == alg for k in keys) == 1, alg
            await asyncio.sleep(0.2)
        assert max(seen_next) == 1  # announced first, and only one key at a time
        await wait_until(lambda: _both_publish(first, second, active))


async def _both_publish(first, second, kid: str) -> bool:
    return kid in await published_kids(first) and kid in await published_kids(second)


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
async def test_other_signing_algorithms_are_published_and_verify(private, redis, alg):
    settings = dataclasses.replace(private.settings, signing_alg=alg, id_token_signing_alg=alg)
    client, user = await make_client(private.pool), await make_user(private.pool, settings)
    async with running(settings) as http:
        published = (await (await http.get("/jwks")).json())["keys"]
        assert sorted(k["alg"] for k in published) == sorted([alg, "RS256"])  # RS256: OIDC Core §15.1
        issued = await issue_code(redis, settings, client, user, scope="openid")
        body = await (await exchange(http, client, issued)).json()
        assert jwt.get_unverified_header(body["access_token"])["alg"] == alg
        assert jwt.get_unverified_header(body["id_token"])["alg"] == alg
        access, id_token = await verify_with_jwks_uri(
            str(http.make_url("/jwks")), [(body["access_token"], settings.access_audience),
                                          (body["id_token"], client.client_id)], settings.issuer)
        assert access["sub"] == id_token["sub"] == str(user.id)


async def test_an_upgraded_key_ring_announces_its_id_token_key_before_signing_with_it(private, redis):
    """A deployment from before per-algorithm keys has one RS256 key: the ES256 key for ID
    tokens is published first, ID tokens stay RS256 meanwhile, then switch without a gap."""
    settings = private.settings
    conn = await connect(settings)
    try:
        rs256 = (await create_key(conn, settings, alg="RS256")).kid
    finally:
        await conn.close()
    client, user = await make_client(private.pool), await make_user(private.pool, settings)
    async with running(settings) as http:
        [es256] = [k.kid for k in await PgSigningKeys(private.pool).all() if k.alg == "ES256"]
        assert es256 in await published_kids(http)

        async def id_token_kid() -> str:
            issued = await issue_code(redis, settings, client, user, scope="openid")
            return kid_of((await (await exchange(http, client, issued)).json())["id_token"])

        assert await id_token_kid() == rs256  # announced, not yet signing
        await wait_until(lambda: _is(id_token_kid(), es256))
        assert rs256 in await published_kids(http)  # still signs access tokens


async def _is(value, expected) -> bool:
    same: bool = await value == expected
    return same
