"""`latchkey check`'s comparison of the key ring with the JWKS served (shared.deploy_check.signing_keys)."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.config import Settings
from shared.deploy_check.signing_keys import check_served
from shared.models import StoredSigningKey

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SETTINGS = Settings.from_env({"DATABASE_URL": "postgresql://db/lk", "REDIS_URL": "redis://cache:6379/0",
                              "LATCHKEY_KEY_POLL_SECONDS": "5", "LATCHKEY_JWKS_MAX_AGE_SECONDS": "60"})


def key(kid: str, status: str = "active", age: float = 3600, alg: str = "RS256") -> StoredSigningKey:
    created = NOW - timedelta(seconds=age)
    return StoredSigningKey(kid=kid, alg=alg, status=status, public_jwk={}, private_key_encrypted=b"",  # type: ignore[arg-type]
                            created_at=created, activates_at=created, retired_at=None, publish_until=None)


def served(*kids: str, alg: str = "RS256") -> dict[str, dict[str, str]]:
    return {kid: {"kid": kid, "alg": alg} for kid in kids}


def test_every_published_key_served_is_ok():
    [finding] = check_served([key("a"), key("b", "next")], served("a", "b"), NOW, SETTINGS)
    assert finding.status == "ok"


@pytest.mark.parametrize("age, status", [(0, "warn"), (64, "warn"), (65, "fail"), (3600, "fail")],
                         ids=["just published", "within poll + max-age", "at the end of it", "long ago"])
def test_a_key_not_served_yet_warns_until_the_token_service_and_caches_had_time(age, status):
    """`keys rotate` then `check` at once: the token service loads keys every 5 s here, and a cache
    in front of it may keep the old JWKS for its 60 s max-age."""
    [finding] = check_served([key("a"), key("new", "next", age=age)], served("a"), NOW, SETTINGS)
    assert finding.status == status and "new (RS256, next)" in finding.message


def test_a_key_served_that_is_not_in_the_key_ring_fails_at_once():
    [finding] = check_served([key("a")], served("a", "stranger"), NOW, SETTINGS)
    assert finding.status == "fail" and "stranger" in finding.message


def test_a_key_served_with_another_alg_fails():
    [finding] = check_served([key("a")], served("a", alg="ES256"), NOW, SETTINGS)
    assert finding.status == "fail" and "wrong alg for a" in finding.message
