"""BearerConfig: what the verifier checks against, from the services' settings or set by hand."""

from __future__ import annotations

import base64
import secrets

import pytest

from shared.bearer import BearerConfig
from shared.config import Settings

KEK = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
ENV = {
    "DATABASE_URL": "postgresql://lk@db:5432/lk", "REDIS_URL": "redis://cache:6379/0",
    "LATCHKEY_KEY_ENCRYPTION_KEY": KEK, "LATCHKEY_ISSUER": "https://id.example",
    "LATCHKEY_TOKEN_URL": "https://token.example", "LATCHKEY_RESOURCE_URL": "https://resource.example",
    "LATCHKEY_AUDIENCE": "https://api.example",
    "LATCHKEY_BEARER_ALGS": "EdDSA", "LATCHKEY_CLOCK_LEEWAY_SECONDS": "7", "LATCHKEY_CHECK_REVOCATION": "0",
    "LATCHKEY_REDIS_PREFIX": "lk-test:", "LATCHKEY_JWKS_FETCH_TIMEOUT_SECONDS": "3",
    "LATCHKEY_JWKS_MAX_BYTES": "4096", "LATCHKEY_JWKS_MAX_AGE_SECONDS": "11",
    "LATCHKEY_JWKS_REFETCH_COOLDOWN_SECONDS": "13", "LATCHKEY_JWKS_CACHE_MAX_SECONDS": "17",
}


def test_every_field_comes_from_its_setting():
    assert Settings.from_env(ENV).bearer_config() == BearerConfig(
        issuer="https://id.example", audience="https://api.example", jwks_url="https://token.example/jwks",
        also_audiences=("https://resource.example/userinfo",), algorithms=("EdDSA",), leeway=7,
        check_revocation=False, redis_prefix="lk-test:", jwks_fetch_timeout=3,
        jwks_max_bytes=4096, jwks_default_max_age=11, jwks_refetch_cooldown=13, jwks_cache_cap=17,
    )


def test_a_standalone_api_gets_the_services_defaults():
    defaults = Settings.from_env({k: ENV[k] for k in ("DATABASE_URL", "REDIS_URL", "LATCHKEY_KEY_ENCRYPTION_KEY")})
    mine = BearerConfig(issuer="https://id.example", audience="https://api.example", jwks_url="https://t/jwks")
    from_settings = defaults.bearer_config()
    for field in ("algorithms", "leeway", "check_revocation", "redis_prefix", "jwks_fetch_timeout", "jwks_max_bytes",
                  "jwks_default_max_age", "jwks_refetch_cooldown", "jwks_cache_cap"):
        assert getattr(mine, field) == getattr(from_settings, field), field


@pytest.mark.parametrize("changes, named", [
    ({"issuer": ""}, "issuer"), ({"jwks_url": ""}, "jwks_url"),
    ({"algorithms": ()}, "algorithms"), ({"algorithms": ("HS256",)}, "algorithms"),
])
def test_a_config_that_would_refuse_every_token_is_refused_at_once(changes, named):
    values = {"issuer": "https://id.example", "audience": "https://api.example", "jwks_url": "https://t/jwks"}
    with pytest.raises(ValueError, match=named):
        BearerConfig(**{**values, **changes})
