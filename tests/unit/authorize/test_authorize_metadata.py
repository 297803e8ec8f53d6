"""Discovery metadata built from settings only (core.discovery)."""

import pytest

from services.authorize.core.discovery import server_metadata
from services.authorize.pages import form_target_source, page_csp
from shared.config import Settings

KEK = "bGF0Y2hrZXktZGV2LW9ubHkta2V5LWRvLW5vdC11c2U="


@pytest.fixture
def metadata():
    settings = Settings.from_env({"DATABASE_URL": "postgresql://x@h/d", "REDIS_URL": "redis://h", "LATCHKEY_DEV": "1",
                                  "LATCHKEY_KEY_ENCRYPTION_KEY": KEK, "LATCHKEY_ISSUER": "https://id.example",
                                  "LATCHKEY_TOKEN_URL": "https://tok.example", "LATCHKEY_RESOURCE_URL": "https://api.example"})
    return server_metadata(settings)


@pytest.mark.parametrize("name, value", [
    ("issuer", "https://id.example"),
    ("authorization_endpoint", "https://id.example/authorize"),
    ("token_endpoint", "https://tok.example/token"),
    ("jwks_uri", "https://tok.example/jwks"),
    ("revocation_endpoint", "https://tok.example/revoke"),
    ("introspection_endpoint", "https://tok.example/introspect"),
    ("userinfo_endpoint", "https://api.example/userinfo"),
    ("code_challenge_methods_supported", ["S256"]),
    ("response_types_supported", ["code"]),
    ("authorization_response_iss_parameter_supported", True),
])
def test_metadata_values(metadata, name, value):
    assert metadata[name] == value


def test_end_session_endpoint_and_back_channel_logout(metadata):
    """/logout is the end_session_endpoint (RP-Initiated Logout 1.0 §2.1); Back-Channel Logout 1.0
    §2.1: logout tokens are sent, and they carry sid."""
    assert metadata["end_session_endpoint"] == metadata["issuer"] + "/logout"
    assert metadata["backchannel_logout_supported"] is True
    assert metadata["backchannel_logout_session_supported"] is True


def test_no_unsigned_algorithm(metadata):
    # The configured algorithms, the ID-token default first; RS256 always (OIDC Discovery §3).
    assert metadata["id_token_signing_alg_values_supported"] == ["ES256", "RS256"]


@pytest.mark.parametrize("uri, source", [
    pytest.param("https://app.example:8443/cb?x=1", "https://app.example:8443", id="https origin"),
    pytest.param("http://127.0.0.1:5173/cb", "http://127.0.0.1:5173", id="loopback origin"),
    pytest.param("com.example.app:/oauth", "com.example.app:", id="native app scheme"),
    pytest.param("https://a.example;script-src */cb", None, id="a directive cannot be injected"),
])
def test_form_action_source(uri, source):
    assert form_target_source(uri) == source


def test_page_csp_adds_only_the_client_origin():
    csp = page_csp("https://app.example/cb")
    assert "form-action 'self' https://app.example;" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp


@pytest.mark.parametrize("access, id_token, advertised", [
    ("RS256", "RS256", ["RS256"]),
    ("ES256", "ES256", ["ES256", "RS256"]),
    ("RS256", "EdDSA", ["EdDSA", "RS256"]),
    ("EdDSA", "ES256", ["ES256", "EdDSA", "RS256"]),
])
def test_id_token_algorithms_are_the_configured_ones(access, id_token, advertised):
    settings = Settings(signing_alg=access, id_token_signing_alg=id_token)
    assert server_metadata(settings)["id_token_signing_alg_values_supported"] == advertised
