"""The JWKS cache: which keys are usable, Cache-Control, and the refetch bound (RFC 7517, RFC 9111).

A scripted fetcher and a fake clock make the timing rules exact; the integration tests
repeat the important ones over real HTTP.
"""

import asyncio

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared.bearer.jwks import FetchedJwks, JwksCache, JwksUnavailable, max_age_from_headers, parse_jwks, usable_key
from shared.errors import InvalidToken, VerifierUnavailable
from tests.integration.resource.minting import new_key
from tests.support.typed import present

ALL = frozenset({"RS256", "ES256", "EdDSA"})
RSA_KEY, EC_KEY, ED_KEY = new_key("RS256"), new_key("ES256"), new_key("EdDSA")


@pytest.mark.parametrize("key", [RSA_KEY, EC_KEY, ED_KEY], ids=["RS256", "ES256", "EdDSA"])
def test_published_keys_are_usable_and_pinned_to_their_alg(key):
    usable = present(usable_key(key.public_jwk, ALL))
    assert (usable.kid, usable.alg) == (key.kid, key.alg)


def _weak_rsa_jwk():
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    return {**RSAAlgorithm.to_jwk(weak, as_dict=True), "kid": "weak", "alg": "RS256"}


UNUSABLE = [
    pytest.param({**RSA_KEY.public_jwk, "alg": None}, ALL, id="no alg on the key"),
    pytest.param(RSA_KEY.public_jwk, frozenset({"ES256"}), id="alg outside the allow-list"),
    pytest.param({**RSA_KEY.public_jwk, "alg": "HS256"}, ALL | {"HS256"}, id="symmetric alg never"),
    pytest.param({**RSA_KEY.public_jwk, "alg": "ES256"}, ALL, id="RSA key claiming ES256"),
    pytest.param({**EC_KEY.public_jwk, "crv": "P-384"}, ALL, id="EC key on another curve"),
    pytest.param({**RSA_KEY.public_jwk, "use": "enc"}, ALL, id="encryption key"),
    pytest.param({**RSA_KEY.public_jwk, "key_ops": ["encrypt"]}, ALL, id="key_ops without verify"),
    pytest.param({**RSA_KEY.public_jwk, "d": "AAAA"}, ALL, id="private key material"),
    pytest.param({**RSA_KEY.public_jwk, "kid": None}, ALL, id="no kid"),
    pytest.param({**RSA_KEY.public_jwk, "n": "!!"}, ALL, id="broken modulus"),
    pytest.param(_weak_rsa_jwk(), ALL, id="RSA under 2048 bits"),
    pytest.param("not a key", ALL, id="not an object"),
    pytest.param({**RSA_KEY.public_jwk, "alg": ["RS256"]}, ALL, id="alg a list"),
    pytest.param({**RSA_KEY.public_jwk, "alg": {"RS256": 1}}, ALL, id="alg an object"),
    pytest.param({**RSA_KEY.public_jwk, "kid": ["k"]}, ALL, id="kid a list"),
    pytest.param({**RSA_KEY.public_jwk, "key_ops": 7}, ALL, id="key_ops a number"),
    pytest.param({**RSA_KEY.public_jwk, "key_ops": "verify"}, ALL, id="key_ops a string"),
    pytest.param({**RSA_KEY.public_jwk, "use": ["sig"]}, ALL, id="use a list"),
    pytest.param({**EC_KEY.public_jwk, "crv": ["P-256"]}, ALL, id="crv a list"),
]


@pytest.mark.parametrize("jwk, algorithms", UNUSABLE)
def test_unusable_keys_are_skipped(jwk, algorithms):
    if isinstance(jwk, dict):
        jwk = {k: v for k, v in jwk.items() if v is not None}
    assert usable_key(jwk, algorithms) is None


def test_one_malformed_key_is_skipped_not_the_whole_set():
    forged = {**EC_KEY.public_jwk, "kid": "forged", "alg": ["RS256"]}
    assert set(parse_jwks({"keys": [forged, RSA_KEY.public_jwk]}, ALL)) == {RSA_KEY.kid}


def test_parse_keeps_usable_keys_and_refuses_non_sets():
    keys = parse_jwks({"keys": [RSA_KEY.public_jwk, {"kty": "oct", "k": "c2VjcmV0"}, EC_KEY.public_jwk]}, ALL)
    assert set(keys) == {RSA_KEY.kid, EC_KEY.kid}
    documents: tuple[object, ...] = ([], {"keys": "x"}, {"nokeys": []})
    for document in documents:
        with pytest.raises(JwksUnavailable):
            parse_jwks(document, ALL)


MAX_AGES = [
    pytest.param(None, None, None, id="no header"),
    pytest.param("public, max-age=300", None, 300, id="max-age"),
    pytest.param('max-age="120"', None, 120, id="quoted max-age"),
    pytest.param("Max-Age=60, must-revalidate", None, 60, id="case-insensitive"),
    pytest.param("max-age=300", "100", 200, id="Age counts against it"),
    pytest.param("max-age=300", "900", 0, id="older than max-age"),
    pytest.param("no-store", None, 0, id="no-store"),
    pytest.param("no-cache, max-age=300", None, 0, id="no-cache wins"),
    pytest.param("max-age=soon", None, None, id="unparseable"),
    pytest.param("public", None, None, id="no max-age directive"),
]


@pytest.mark.parametrize("cache_control, age, expected", MAX_AGES)
def test_max_age_from_headers(cache_control, age, expected):
    assert max_age_from_headers(cache_control, age) == expected


class ScriptedFetcher:
    """Answers with the current key set; can fail, and can hold a fetch open."""

    def __init__(self, jwks, max_age=300):
        self.jwks = list(jwks)
        self.max_age = max_age
        self.fail = False
        self.calls = 0
        self.gate: asyncio.Event | None = None

    async def fetch(self):
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise JwksUnavailable("down")
        return FetchedJwks({"keys": self.jwks}, self.max_age)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def cache_for(fetcher, clock, cooldown=30, cap=3600, max_stale=None):
    return JwksCache(fetcher, algorithms=ALL, cooldown=cooldown, default_max_age=300, max_age_cap=cap,
                     max_stale=max_stale, clock=clock)


async def test_keys_are_fetched_once_and_reused_while_fresh():
    fetcher, clock = ScriptedFetcher([RSA_KEY.public_jwk]), Clock()
    cache = cache_for(fetcher, clock)
    first = await cache.key_for(RSA_KEY.kid)
    clock.now += 299
    assert await cache.key_for(RSA_KEY.kid) is first  # decoded once, same object
    assert fetcher.calls == 1


async def test_refetched_in_the_background_when_max_age_has_passed():
    fetcher, clock = ScriptedFetcher([RSA_KEY.public_jwk], max_age=60), Clock()
    cache = cache_for(fetcher, clock)
    await cache.key_for(RSA_KEY.kid)
    clock.now += 61
    fetcher.jwks = [EC_KEY.public_jwk]  # the old key was withdrawn
    assert (await cache.key_for(RSA_KEY.kid)).kid == RSA_KEY.kid  # stale, served while revalidating
    await cache.settled()
    assert fetcher.calls == 2
    with pytest.raises(InvalidToken, match="unknown signing key"):
        await cache.key_for(RSA_KEY.kid)


async def test_a_stale_key_is_served_at_once_while_the_refetch_hangs():
    fetcher, clock = ScriptedFetcher([RSA_KEY.public_jwk], max_age=60), Clock()
    cache = cache_for(fetcher, clock, cooldown=30)
    await cache.key_for(RSA_KEY.kid)
    fetcher.gate = asyncio.Event()  # the next fetch never answers until released
    clock.now += 61
    for _ in range(100):
        assert (await asyncio.wait_for(cache.key_for(RSA_KEY.kid), 0.5)).kid == RSA_KEY.kid
    assert fetcher.calls == 2  # one background fetch for all of them
    fetcher.gate.set()
    await cache.settled()
    assert fetcher.calls == 2


async def test_background_refetches_are_bounded_by_the_cooldown():
    fetcher, clock = ScriptedFetcher([RSA_KEY.public_jwk], max_age=0), Clock()
    cache = cache_for(fetcher, clock, cooldown=30)
    await cache.key_for(RSA_KEY.kid)
    for _ in range(29):
        clock.now += 1
        await cache.key_for(RSA_KEY.kid)
        await cache.settled()
    assert fetcher.calls == 1
    clock.now += 1
    await cache.key_for(RSA_KEY.kid)
    await cache.settled()
    assert fetcher.calls == 2


STALE_LIMITS = [
    pytest.param(60 + 599, True, id="stale within max_stale: served"),
    pytest.param(60 + 600, False, id="stale beyond max_stale: 503"),
    pytest.param(60 + 10_000, False, id="long outage: 503"),
]


@pytest.mark.parametrize("elapsed, served", STALE_LIMITS)
async def test_stale_keys_stop_being_accepted_after_max_stale(elapsed, served):
    fetcher, clock = ScriptedFetcher([RSA_KEY.public_jwk], max_age=60), Clock()
    cache = cache_for(fetcher, clock, max_stale=600)
    await cache.key_for(RSA_KEY.kid)
    fetcher.fail = True
    clock.now += elapsed
    if served:
        assert (await cache.key_for(RSA_KEY.kid)).kid == RSA_KEY.kid
    else:
        with pytest.raises(VerifierUnavailable):
            await cache.key_for(RSA_KEY.kid)


async def test_too_stale_keys_work_again_once_a_refetch_succeeds():
    fetcher, clock = ScriptedFetcher([RSA_KEY.public_jwk], max_age=60), Clock()
    cache = cache_for(fetcher, clock, max_stale=600)
    await cache.key_for(RSA_KEY.kid)
    fetcher.fail = True
    clock.now += 1000
    with pytest.raises(VerifierUnavailable):
        await cache.key_for(RSA_KEY.kid)
    fetcher.fail = False
    clock.now += 30  # the failed fetch's cooldown
    assert (await cache.key_for(RSA_KEY.kid)).kid == RSA_KEY.kid


async def test_max_stale_defaults_to_the_cache_cap():
    fetcher, clock = ScriptedFetcher([RSA_KEY.public_jwk], max_age=60), Clock()
    cache = cache_for(fetcher, clock, cap=600)
    await cache.key_for(RSA_KEY.kid)
    fetcher.fail = True
    clock.now += 60 + 600
    with pytest.raises(VerifierUnavailable):
        await cache.key_for(RSA_KEY.kid)


async def test_max_age_is_capped():
    fetcher, clock = ScriptedFetcher([RSA_KEY.public_jwk], max_age=86400), Clock()
    cache = cache_for(fetcher, clock, cap=600)
    await cache.key_for(RSA_KEY.kid)
    clock.now += 601
    await cache.key_for(RSA_KEY.kid)
    await cache.settled()
    assert fetcher.calls == 2


async def test_unknown_kids_refetch_at_most_once_per_cooldown():
    fetcher, clock = ScriptedFetcher([RSA_KEY.public_jwk]), Clock()
    cache = cache_for(fetcher, clock, cooldown=30)
    await cache.key_for(RSA_KEY.kid)
    for i in range(1000):
        with pytest.raises(InvalidToken):
            await cache.key_for(f"random-{i}")
    assert fetcher.calls == 1  # the first fetch's cooldown still runs
    clock.now += 30
    results = await asyncio.gather(*(cache.key_for(f"later-{i}") for i in range(1000)), return_exceptions=True)
    assert all(isinstance(r, InvalidToken) for r in results)
    assert fetcher.calls == 2


async def test_a_new_key_is_found_by_refetching_after_the_cooldown():
    fetcher, clock = ScriptedFetcher([RSA_KEY.public_jwk]), Clock()
    cache = cache_for(fetcher, clock)
    await cache.key_for(RSA_KEY.kid)
    fetcher.jwks.append(EC_KEY.public_jwk)  # rotation announced a new key
    clock.now += 31
    assert (await cache.key_for(EC_KEY.kid)).alg == "ES256"


async def test_concurrent_requests_share_one_fetch():
    fetcher, clock = ScriptedFetcher([RSA_KEY.public_jwk]), Clock()
    fetcher.gate = asyncio.Event()
    cache = cache_for(fetcher, clock)
    waiting = [asyncio.ensure_future(cache.key_for(RSA_KEY.kid)) for _ in range(100)]
    await asyncio.sleep(0)
    fetcher.gate.set()
    keys = await asyncio.gather(*waiting)
    assert fetcher.calls == 1 and {k.kid for k in keys} == {RSA_KEY.kid}


async def test_cancelled_waiter_does_not_cancel_the_fetch():
    fetcher, clock = ScriptedFetcher([RSA_KEY.public_jwk]), Clock()
    fetcher.gate = asyncio.Event()
    cache = cache_for(fetcher, clock)
    first = asyncio.ensure_future(cache.key_for(RSA_KEY.kid))
    second = asyncio.ensure_future(cache.key_for(RSA_KEY.kid))
    await asyncio.sleep(0)
    first.cancel()
    fetcher.gate.set()
    assert (await second).kid == RSA_KEY.kid


async def test_cold_start_outage_is_503_never_acceptance():
    fetcher, clock = ScriptedFetcher([RSA_KEY.public_jwk]), Clock()
    fetcher.fail = True
    cache = cache_for(fetcher, clock)
    with pytest.raises(VerifierUnavailable):
        await cache.key_for(RSA_KEY.kid)
    with pytest.raises(VerifierUnavailable):
        await cache.key_for(RSA_KEY.kid)
    assert fetcher.calls == 1  # the outage is not hammered either
    fetcher.fail = False
    clock.now += 30
    assert (await cache.key_for(RSA_KEY.kid)).kid == RSA_KEY.kid


async def test_outage_keeps_known_keys_but_unknown_kids_get_503():
    fetcher, clock = ScriptedFetcher([RSA_KEY.public_jwk], max_age=60), Clock()
    cache = cache_for(fetcher, clock)
    await cache.key_for(RSA_KEY.kid)
    fetcher.fail = True
    clock.now += 61
    assert (await cache.key_for(RSA_KEY.kid)).kid == RSA_KEY.kid  # stale-if-error
    await cache.settled()
    assert (await cache.key_for(RSA_KEY.kid)).kid == RSA_KEY.kid  # still, after the refetch failed
    clock.now += 30
    with pytest.raises(VerifierUnavailable):
        await cache.key_for(EC_KEY.kid)


async def test_failed_prime_lets_the_first_request_retry_at_once():
    fetcher, clock = ScriptedFetcher([RSA_KEY.public_jwk]), Clock()
    fetcher.fail = True
    cache = cache_for(fetcher, clock)
    await cache.prime()
    fetcher.fail = False
    assert (await cache.key_for(RSA_KEY.kid)).kid == RSA_KEY.kid
    assert fetcher.calls == 2


async def test_a_non_jwks_answer_counts_as_an_outage(monkeypatch):
    fetcher, clock = ScriptedFetcher([]), Clock()
    cache = cache_for(fetcher, clock)

    async def not_a_set():
        fetcher.calls += 1
        return FetchedJwks({"hello": "world"}, 300)

    monkeypatch.setattr(fetcher, "fetch", not_a_set)
    with pytest.raises(VerifierUnavailable):
        await cache.key_for(RSA_KEY.kid)
