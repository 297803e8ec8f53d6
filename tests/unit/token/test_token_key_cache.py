"""services.token.key_cache.KeyCache: keys decrypted once, JWKS public only, swap on change."""

import json
import os
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.token import key_cache
from services.token.key_cache import KeyCache
from shared.crypto.signing_keys import encrypt_private_key, generate_private_key, public_jwk
from shared.errors import TemporarilyUnavailable
from shared.keyring import load_signing_key
from shared.models import KeyStatus, StoredSigningKey

KEK = os.urandom(32)
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def stored(alg: str = "RS256", status: KeyStatus = "active") -> StoredSigningKey:
    private_key = generate_private_key(alg)
    jwk = public_jwk(private_key, alg)
    return StoredSigningKey(kid=jwk["kid"], alg=alg, status=status, public_jwk=jwk,
                            private_key_encrypted=encrypt_private_key(private_key, KEK, jwk["kid"]),
                            created_at=NOW, activates_at=NOW, retired_at=None, publish_until=None)


@pytest.fixture
def decryptions(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = load_signing_key  # what key_cache imported

    def counting(key, kek):
        seen.append(key.kid)
        return real(key, kek)

    monkeypatch.setattr(key_cache, "load_signing_key", counting)
    return seen


async def test_an_empty_cache_cannot_sign():
    with pytest.raises(TemporarilyUnavailable):
        KeyCache(KEK).signer("RS256")


async def test_keys_are_decrypted_once_and_only_new_ones_later(decryptions):
    cache, active, upcoming = KeyCache(KEK), stored(), stored("ES256", "next")
    assert await cache.load([active]) is True
    assert await cache.load([active]) is False
    assert await cache.load([active, upcoming]) is True
    assert decryptions == [active.kid, upcoming.kid]
    assert cache.signer("RS256").kid == active.kid
    with pytest.raises(TemporarilyUnavailable):  # announced, not yet signing
        cache.signer("ES256", exact=True)


async def test_promotion_switches_the_signer_without_decrypting_again(decryptions):
    cache, old, new = KeyCache(KEK), stored("EdDSA"), stored("EdDSA", "next")
    await cache.load([old, new])
    await cache.load([replace(old, status="retired"), replace(new, status="active")])
    assert cache.signer("EdDSA").kid == new.kid and cache.signer("EdDSA").alg == "EdDSA"
    assert decryptions == [old.kid, new.kid]
    assert cache.verification_key(old.kid) is not None  # still published for tokens it signed


async def test_each_algorithm_signs_with_its_own_active_key():
    cache, rs256, es256 = KeyCache(KEK), stored("RS256"), stored("ES256")
    await cache.load([rs256, es256])
    assert (cache.signer("RS256").kid, cache.signer("ES256").kid) == (rs256.kid, es256.kid)
    with pytest.raises(TemporarilyUnavailable):
        cache.signer("EdDSA", exact=True)


async def test_until_its_key_signs_an_algorithm_falls_back_to_rs256_unless_exact():
    """A newly configured algorithm is announced first; a client's registered one never substitutes."""
    cache, rs256, announced = KeyCache(KEK), stored("RS256"), stored("ES256", "next")
    await cache.load([rs256, announced])
    assert cache.signer("ES256").kid == rs256.kid
    with pytest.raises(TemporarilyUnavailable):
        cache.signer("ES256", exact=True)


async def test_retired_keys_are_published_but_never_decrypted(decryptions):
    cache, retired, active = KeyCache(KEK), stored(status="retired"), stored()
    await cache.load([retired, active])
    assert decryptions == [active.kid]
    assert cache.kids == {retired.kid, active.kid}


async def test_the_jwks_holds_public_members_only():
    cache = KeyCache(KEK)
    keys = [stored("RS256"), stored("ES256", "next"), stored("EdDSA", "retired")]
    await cache.load(keys)
    document = json.loads(cache.jwks_body)
    assert [k["kid"] for k in document["keys"]] == [k.kid for k in keys]
    for jwk in document["keys"]:
        assert jwk["use"] == "sig" and jwk["alg"] in ("RS256", "ES256", "EdDSA")
        assert not {"d", "p", "q", "dp", "dq", "qi"} & jwk.keys()
