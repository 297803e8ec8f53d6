"""The bearer verifier remembers tokens it verified (LATCHKEY_VERIFIED_TOKEN_CACHE_SIZE): a token
used again skips its signature check, and is still refused as soon as a full verification would
refuse it (expired, key gone, revoked)."""

import base64
import dataclasses
import json

import pytest

from shared.bearer import jws_verify
from shared.bearer import verifier as verifier_module
from shared.bearer.jwks import usable_key
from shared.bearer.jws_verify import VerificationKey
from shared.bearer.revocation import TokenRef
from shared.bearer.verified_cache import Verified, VerifiedTokens, token_digest
from shared.bearer.verifier import BearerVerifier
from shared.errors import InvalidToken
from tests.support.typed import present
from tests.unit.test_properties_bearer import ALGS, KEYS, POLICY, signed


class SwappableKeys:
    """The JWKS cache's contract: the same key object until the key set is fetched again."""

    def __init__(self) -> None:
        self.keys = {k.kid: present(usable_key(k.public_jwk, ALGS)) for k in KEYS.values()}

    def refetch(self) -> None:
        self.keys = {k.kid: present(usable_key(k.public_jwk, ALGS)) for k in KEYS.values()}

    async def key_for(self, kid: str) -> VerificationKey:
        if kid not in self.keys:
            raise InvalidToken("unknown signing key", reason="unknown_kid")
        return self.keys[kid]


class Denylist:
    def __init__(self) -> None:
        self.revoked: set[str] = set()
        self.asked = 0

    async def contains(self, token: TokenRef) -> bool:
        self.asked += 1
        return token.jti in self.revoked


@pytest.fixture
def signature_checks(monkeypatch):
    """How many tokens had their signature checked."""
    calls = []
    real = jws_verify.verified_payload

    def counted(jws, key):
        calls.append(key.kid)
        return real(jws, key)

    monkeypatch.setattr(verifier_module, "verified_payload", counted)
    return calls


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _verifier(keys, clock=None, denylist=None, remember=8):
    policy = dataclasses.replace(POLICY, check_revocation=denylist is not None)
    kwargs = {} if clock is None else {"clock": clock}
    return BearerVerifier(policy, keys, denylist, remember=remember, **kwargs)


def _expiry(token: str) -> int:
    payload = token.split(".")[1]
    return int(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"])


async def test_a_token_used_again_is_not_signature_checked_again(signature_checks):
    verifier, token = _verifier(SwappableKeys()), signed("RS256", {}, {})
    first = await verifier.verify(token)
    assert await verifier.verify(token) == first
    assert await verifier.verify(token) == first
    assert len(signature_checks) == 1


async def test_with_nothing_to_remember_every_use_is_checked(signature_checks):
    verifier, token = _verifier(SwappableKeys(), remember=0), signed("RS256", {}, {})
    await verifier.verify(token)
    await verifier.verify(token)
    assert len(signature_checks) == 2


async def test_a_remembered_token_is_refused_once_expired_and_forgotten(signature_checks):
    token = signed("ES256", {}, {})
    clock = Clock(float(_expiry(token)) - 60)
    verifier = _verifier(SwappableKeys(), clock)
    await verifier.verify(token)
    clock.now += 60 + POLICY.leeway  # exp plus the allowed skew
    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(token)
    assert refused.value.reason == "expired"
    assert len(present(verifier._verified)) == 0


async def test_a_token_whose_key_left_the_jwks_is_refused(signature_checks):
    keys, token = SwappableKeys(), signed("EdDSA", {}, {})
    verifier = _verifier(keys)
    await verifier.verify(token)
    keys.keys.pop(KEYS["EdDSA"].kid)
    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(token)
    assert refused.value.reason == "unknown_kid"


async def test_after_the_jwks_is_fetched_again_a_token_is_checked_in_full_once(signature_checks):
    keys, token = SwappableKeys(), signed("RS256", {}, {})
    verifier = _verifier(keys)
    await verifier.verify(token)
    keys.refetch()
    await verifier.verify(token)
    await verifier.verify(token)
    assert len(signature_checks) == 2


async def test_a_remembered_token_revoked_later_is_refused(signature_checks):
    denylist, token = Denylist(), signed("RS256", {}, {"jti": "revoke-me"})
    verifier = _verifier(SwappableKeys(), denylist=denylist)
    await verifier.verify(token)
    denylist.revoked.add("revoke-me")
    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(token)
    assert refused.value.reason == "revoked"
    assert denylist.asked == 2 and len(signature_checks) == 1


async def test_a_forged_signature_on_a_remembered_token_is_refused(signature_checks):
    verifier, token = _verifier(SwappableKeys()), signed("RS256", {}, {})
    await verifier.verify(token)
    head, payload, signature = token.split(".")
    middle = len(signature) // 2  # a middle character carries six bits of the signature, all used
    forged = f"{head}.{payload}.{signature[:middle]}{'B' if signature[middle] == 'A' else 'A'}{signature[middle + 1:]}"
    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(forged)
    assert refused.value.reason == "bad_signature"


def test_the_oldest_entry_is_evicted_when_full():
    cache = VerifiedTokens(2)
    entry = Verified.__new__(Verified)
    for token in ("a", "b", "c"):
        cache.add(token_digest(token), entry)
    assert len(cache) == 2
    assert cache.get(token_digest("a")) is None
    assert cache.get(token_digest("b")) is entry and cache.get(token_digest("c")) is entry



async def test_a_token_refused_on_a_later_use_is_forgotten(signature_checks):
    keys, token = SwappableKeys(), signed("ES256", {}, {})
    verifier = _verifier(keys)
    await verifier.verify(token)
    keys.keys.pop(KEYS["ES256"].kid)
    with pytest.raises(InvalidToken):
        await verifier.verify(token)
    assert len(present(verifier._verified)) == 0


async def test_a_revoked_token_is_not_remembered(signature_checks):
    denylist, token = Denylist(), signed("RS256", {}, {"jti": "revoked-first"})
    denylist.revoked.add("revoked-first")
    verifier = _verifier(SwappableKeys(), denylist=denylist)
    with pytest.raises(InvalidToken):
        await verifier.verify(token)
    assert len(present(verifier._verified)) == 0


async def test_the_claims_handed_out_are_read_only_and_still_a_dict(signature_checks):
    verifier, token = _verifier(SwappableKeys()), signed("RS256", {}, {})
    access = await verifier.verify(token)
    with pytest.raises(TypeError):
        access.claims["exp"] = 2**40
    with pytest.raises(TypeError):
        access.claims.pop("exp")
    assert json.loads(json.dumps(access.claims))["sub"] == "u1"
    assert (await verifier.verify(token)).claims["exp"] == _expiry(token)


async def test_nested_claims_are_read_only_too(signature_checks):
    """A list or an object inside the claims is shared by every request carrying that token."""
    verifier = _verifier(SwappableKeys())
    token = signed("RS256", {}, {"aud": [POLICY.audience, "https://other.example"], "cnf": {"x5t#S256": "abc"}})
    access = await verifier.verify(token)
    with pytest.raises(AttributeError):
        access.claims["aud"].append("https://injected.example")
    with pytest.raises(TypeError):
        access.claims["cnf"]["x5t#S256"] = "forged"
    again = await verifier.verify(token)  # the remembered token, as the next request gets it
    assert again.claims["aud"] == (POLICY.audience, "https://other.example")
    assert json.loads(json.dumps(again.claims))["cnf"] == {"x5t#S256": "abc"}


USERINFO = "https://resource.example/userinfo"


@pytest.mark.parametrize("remember", [8, 0], ids=["remembered", "verified in full each time"])
async def test_an_also_audience_is_taken_only_where_the_route_asks_for_it(signature_checks, remember):
    """OIDC Core §5.3.1: an OpenID request's token for another API names userinfo too; /userinfo
    takes it (also=), every other route of the server refuses it, remembered or not."""
    policy = dataclasses.replace(POLICY, also_audiences=frozenset({USERINFO}))
    verifier = BearerVerifier(policy, SwappableKeys(), remember=remember)
    for_api = signed("RS256", {}, {"aud": ["https://orders.example", USERINFO]})
    assert (await verifier.verify(for_api, also=USERINFO)).audiences == {"https://orders.example", USERINFO}
    for also in (None, "https://orders.example"):
        with pytest.raises(InvalidToken) as refused:
            await verifier.verify(for_api, also=also)
        assert refused.value.reason == "wrong_audience"
    assert (await verifier.verify(for_api, also=USERINFO)).subject  # a refusal elsewhere forgot nothing
    ours = signed("RS256", {}, {"aud": [POLICY.audience, "https://orders.example"]})
    assert await verifier.verify(ours) == await verifier.verify(ours, also=USERINFO)
    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(signed("RS256", {}, {"aud": "https://orders.example"}), also=USERINFO)
    assert refused.value.reason == "wrong_audience"
