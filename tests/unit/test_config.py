"""Settings from the environment: parsed, validated at start, unsafe values refused outside dev."""

from __future__ import annotations

import base64
import dataclasses
import secrets

import pytest

from shared.config import DEV_KEY_ENCRYPTION_KEY, Settings, documented_variables, is_loopback_url
from shared.errors import ConfigError

KEK = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
BASE = {"DATABASE_URL": "postgresql://lk@db:5432/lk", "REDIS_URL": "redis://cache:6379/0",
        "LATCHKEY_KEY_ENCRYPTION_KEY": KEK}


def from_env(**changes: str | None) -> Settings:
    env = {**BASE, **changes}
    return Settings.from_env({k: v for k, v in env.items() if v is not None})


def test_defaults_follow_the_contract():
    s = from_env()
    assert (s.issuer, s.token_url, s.resource_url) == (
        "http://localhost:8001", "http://localhost:8002", "http://localhost:8003")
    assert (s.authorize_port, s.token_port, s.resource_port) == (8001, 8002, 8003)
    assert s.dev_mode is False
    assert s.key_encryption_key == base64.urlsafe_b64decode(KEK + "=")
    assert s.access_audience == "http://localhost:8003"
    assert s.trusted_jwks_url == "http://localhost:8002/jwks"


@pytest.mark.parametrize(("var", "raw", "field", "expected"), [
    ("LATCHKEY_CODE_TTL_SECONDS", "120", "code_ttl", 120),
    ("LATCHKEY_CODE_TTL_SECONDS", "", "code_ttl", 60),
    ("LATCHKEY_DEV", "yes", "dev_mode", True),
    ("LATCHKEY_REQUIRE_PKCE", "false", "require_pkce", False),
    ("LATCHKEY_ISSUER", "https://auth.example/", "issuer", "https://auth.example"),
    ("LATCHKEY_SIGNING_ALG", "ES256", "signing_alg", "ES256"),
    ("LATCHKEY_AUDIENCE", "https://api.example", "access_audience", "https://api.example"),
    ("LATCHKEY_REFRESH_GRACE_SECONDS", "0", "refresh_grace", 0),
], ids=["integer", "empty means default", "bool yes", "bool false", "trailing slash dropped",
        "signing alg", "audience", "zero grace"])
def test_values_are_parsed(var, raw, field, expected):
    assert getattr(from_env(**{var: raw}), field) == expected


def test_a_bad_database_url_is_not_echoed_with_its_password():
    with pytest.raises(ConfigError) as caught:
        from_env(DATABASE_URL="postgresql://lk:s3cret@db:port/lk")
    assert "s3cret" not in str(caught.value)


def test_padded_standard_base64_key_is_accepted():
    key = secrets.token_bytes(32)
    assert from_env(LATCHKEY_KEY_ENCRYPTION_KEY=base64.b64encode(key).decode()).key_encryption_key == key


@pytest.mark.parametrize(("changes", "named"), [
    ({"LATCHKEY_CODE_TTL_SECONDS": "abc"}, "LATCHKEY_CODE_TTL_SECONDS"),
    ({"LATCHKEY_CODE_TTL_SECONDS": "0"}, "LATCHKEY_CODE_TTL_SECONDS"),
    ({"LATCHKEY_CODE_TTL_SECONDS": "601"}, "LATCHKEY_CODE_TTL_SECONDS"),
    ({"LATCHKEY_TOKEN_PORT": "70000"}, "LATCHKEY_TOKEN_PORT"),
    ({"LATCHKEY_DEV": "maybe"}, "LATCHKEY_DEV"),
    ({"LATCHKEY_ISSUER": "ftp://auth.example"}, "LATCHKEY_ISSUER"),
    ({"LATCHKEY_ISSUER": "auth.example"}, "LATCHKEY_ISSUER"),
    ({"LATCHKEY_ISSUER": "https://auth.example/?tenant=1"}, "LATCHKEY_ISSUER"),
    ({"LATCHKEY_SIGNING_ALG": "HS256"}, "LATCHKEY_SIGNING_ALG"),
    ({"DATABASE_URL": "mysql://db/lk"}, "DATABASE_URL"),
    ({"DATABASE_URL": "postgresql://lk:s3cret@db:port/lk"}, "DATABASE_URL"),
    ({"REDIS_URL": "http://cache:6379"}, "REDIS_URL"),
    ({"DATABASE_URL": None}, "DATABASE_URL"),
    ({"REDIS_URL": None}, "REDIS_URL"),
    ({"LATCHKEY_KEY_ENCRYPTION_KEY": "c2hvcnQ"}, "LATCHKEY_KEY_ENCRYPTION_KEY"),
    ({"LATCHKEY_KEY_ENCRYPTION_KEY": "!!!!"}, "LATCHKEY_KEY_ENCRYPTION_KEY"),
    ({"LATCHKEY_KEY_ANNOUNCE_SECONDS": "300", "LATCHKEY_JWKS_MAX_AGE_SECONDS": "300"},
     "LATCHKEY_KEY_ANNOUNCE_SECONDS"),
    ({"LATCHKEY_DB_POOL_MIN": "20", "LATCHKEY_DB_POOL_MAX": "10"}, "LATCHKEY_DB_POOL_MIN"),
    ({"LATCHKEY_MIN_CONCURRENT_REQUESTS": "9", "LATCHKEY_MAX_CONCURRENT_REQUESTS": "8"},
     "LATCHKEY_MIN_CONCURRENT_REQUESTS"),
], ids=["code ttl not a number", "code ttl zero", "code ttl above limit", "port out of range",
        "bool neither", "issuer not http", "issuer relative", "issuer with query", "symmetric alg",
        "database not postgres", "database port not a number", "redis not redis", "database missing", "redis missing",
        "kek too short", "kek not base64", "announce not longer than jwks cache", "pool min above max",
        "concurrency min above max"])
def test_bad_values_are_refused_naming_the_variable(changes, named):
    with pytest.raises(ConfigError) as caught:
        from_env(**changes)
    message = str(caught.value)
    assert message.startswith(named)
    assert "\n" not in message


@pytest.mark.parametrize(("changes", "named"), [
    ({"LATCHKEY_ISSUER": "http://auth.example"}, "LATCHKEY_ISSUER"),
    ({"LATCHKEY_ISSUER": "http://localhost.evil.example:8001"}, "LATCHKEY_ISSUER"),
    ({"LATCHKEY_TOKEN_URL": "http://10.0.0.5:8002"}, "LATCHKEY_TOKEN_URL"),
    ({"LATCHKEY_RESOURCE_URL": "http://0.0.0.0:8003"}, "LATCHKEY_RESOURCE_URL"),
    ({"LATCHKEY_KEY_ENCRYPTION_KEY": DEV_KEY_ENCRYPTION_KEY}, "LATCHKEY_KEY_ENCRYPTION_KEY"),
], ids=["http issuer", "localhost look-alike", "http token url", "http wildcard resource url",
        "published dev key"])
def test_unsafe_settings_need_dev_mode(changes, named):
    with pytest.raises(ConfigError) as caught:
        from_env(**changes)
    assert str(caught.value).startswith(named)
    assert from_env(**changes, LATCHKEY_DEV="1").dev_mode is True


@pytest.mark.parametrize("issuer", [
    "http://localhost:8001", "http://127.0.0.1:8001", "http://[::1]:8001", "https://auth.example",
], ids=["localhost", "ipv4 loopback", "ipv6 loopback", "https"])
def test_loopback_http_and_https_issuers_are_fine_outside_dev(issuer):
    assert from_env(LATCHKEY_ISSUER=issuer).issuer == issuer


@pytest.mark.parametrize(("url", "loopback"), [
    ("http://localhost:1", True), ("http://127.0.0.1", True), ("http://127.8.9.10", True),
    ("http://[::1]:8001/x", True), ("http://localhost.example", False), ("http://0.0.0.0", False),
    ("http://example.com", False), ("http://[::ffff:10.0.0.1]", False),
], ids=["localhost", "127.0.0.1", "127/8", "::1", "look-alike", "wildcard", "name", "mapped v4"])
def test_is_loopback_url(url, loopback):
    assert is_loopback_url(url) is loopback


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        from_env().code_ttl = 5  # type: ignore[misc]


def test_only_the_given_mapping_is_read(monkeypatch):
    # No hidden singleton or os.environ fallback: tests and apps pass the environment in.
    for name, value in BASE.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="^DATABASE_URL is required"):
        Settings.from_env({})


def test_overrides_are_validated_too():
    assert Settings.from_env(BASE, code_ttl=5).code_ttl == 5
    with pytest.raises(ConfigError, match="^LATCHKEY_ISSUER"):
        Settings.from_env(BASE, issuer="http://auth.example")


def test_every_setting_has_its_own_documented_variable():
    documented = documented_variables()
    names = [name for name, _, _ in documented]
    assert len(names) == len(set(names)) == len(dataclasses.fields(Settings))
    # OTEL_EXPORTER_OTLP_ENDPOINT keeps the OpenTelemetry name every collector setup documents.
    standard = ("DATABASE_URL", "REDIS_URL", "OTEL_EXPORTER_OTLP_ENDPOINT")
    assert all(n in standard or n.startswith("LATCHKEY_") for n in names)
    assert all(help_text for _, help_text, _ in documented)


def test_only_the_token_service_needs_the_key_encryption_key():
    settings = from_env(LATCHKEY_KEY_ENCRYPTION_KEY=None)  # authorize and resource start without it
    with pytest.raises(ConfigError, match="^LATCHKEY_KEY_ENCRYPTION_KEY is required"):
        settings.require_key_encryption_key()


def test_revocation_replicas_are_refused_with_a_cluster_and_accepted_with_sentinel():
    """WAIT must run on the connection that wrote; redis-py's cluster client sends it to every node."""
    with pytest.raises(ConfigError, match="^LATCHKEY_REVOCATION_REPLICAS is not supported with redis\\+cluster"):
        from_env(REDIS_URL="redis+cluster://127.0.0.1:7000", LATCHKEY_REDIS_PREFIX="{lk}:",
                 LATCHKEY_REVOCATION_REPLICAS="1")
    settings = from_env(REDIS_URL="redis+sentinel://127.0.0.1:26379/latchkey", LATCHKEY_REVOCATION_REPLICAS="1",
                        LATCHKEY_REVOCATION_WAIT_MS="250")
    assert (settings.revocation_replicas, settings.revocation_wait_ms) == (1, 250)
