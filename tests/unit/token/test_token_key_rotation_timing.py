"""Key rotation timing (RFC 7517, OIDC Core §10.1.1): a replica may keep signing with the old
key, and announcing the new one, for up to one key poll longer than the JWKS cache lifetime; a
verifier may learn a new key only a JWKS max-age plus a refetch cooldown after it appeared."""

import pytest

from shared.config import Settings
from shared.errors import ConfigError
from shared.keyring import retired_key_publish_seconds

BASE = {"DATABASE_URL": "postgresql://db/latchkey", "REDIS_URL": "redis://localhost:6379/0", "LATCHKEY_DEV": "1"}


def test_a_retired_key_stays_published_for_one_more_key_poll():
    quick = Settings.from_env(BASE, key_poll_interval=1)
    slow = Settings.from_env(BASE, key_poll_interval=60)
    assert retired_key_publish_seconds(slow) - retired_key_publish_seconds(quick) == 59
    assert retired_key_publish_seconds(slow) == (max(slow.access_token_ttl, slow.id_token_ttl) + slow.clock_leeway
                                                  + slow.jwks_max_age + slow.key_poll_interval)


@pytest.mark.parametrize("announce, max_age, cooldown, poll, ok", [
    (336, 300, 30, 5, True), (335, 300, 30, 5, False), (306, 300, 30, 5, False), (20, 10, 30, 5, False),
    (600, 300, 30, 5, True),
], ids=["just longer than cache, cooldown and poll", "equal to cache, cooldown and poll",
        "longer than cache and poll but not the cooldown", "the issue's 20 s with max-age 10 s", "the defaults"])
def test_the_announce_window_must_outlast_the_cache_a_refetch_cooldown_and_a_poll(announce, max_age, cooldown,
                                                                                    poll, ok):
    env = {**BASE, "LATCHKEY_KEY_ANNOUNCE_SECONDS": str(announce), "LATCHKEY_JWKS_MAX_AGE_SECONDS": str(max_age),
           "LATCHKEY_JWKS_REFETCH_COOLDOWN_SECONDS": str(cooldown), "LATCHKEY_KEY_POLL_SECONDS": str(poll)}
    if ok:
        assert Settings.from_env(env).key_announce == announce
    else:
        with pytest.raises(ConfigError) as refused:
            Settings.from_env(env)
        for named in ("LATCHKEY_KEY_ANNOUNCE_SECONDS", "LATCHKEY_JWKS_MAX_AGE_SECONDS",
                      "LATCHKEY_JWKS_REFETCH_COOLDOWN_SECONDS", "LATCHKEY_KEY_POLL_SECONDS"):
            assert named in str(refused.value)
