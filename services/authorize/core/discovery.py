"""Authorization server metadata (RFC 8414 §2) and OpenID Provider metadata (OIDC Discovery §3).

Built once from configuration: the issuer and every URL come from settings, never from the
request, so a forged Host header cannot change them. /logout is the end_session_endpoint
(OIDC RP-Initiated Logout 1.0 §2.1); relying parties registered with a backchannel_logout_uri
get logout tokens (OIDC Back-Channel Logout 1.0, shared.logout).
"""

from __future__ import annotations

from typing import Any

from shared.config import Settings
from shared.endpoints import Endpoints
from shared.models import OPENID_SCOPES
from shared.pkce import SUPPORTED_METHODS

CLAIMS = ("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "name", "preferred_username",
          "email", "email_verified")


def server_metadata(settings: Settings) -> dict[str, Any]:
    urls = Endpoints.from_settings(settings)
    return {
        "issuer": urls.issuer,
        "authorization_endpoint": urls.authorization,
        "token_endpoint": urls.token,
        "jwks_uri": urls.jwks,
        "userinfo_endpoint": urls.userinfo,
        "revocation_endpoint": urls.revocation,
        "introspection_endpoint": urls.introspection,
        "end_session_endpoint": urls.logout,
        # OIDC Back-Channel Logout 1.0 §2.1: logout tokens to backchannel_logout_uri, with sid.
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        # The built-in scopes; API scopes change at run time and RFC 8414 §2 lets us leave them out.
        "scopes_supported": list(OPENID_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": list(SUPPORTED_METHODS),
        "authorization_response_iss_parameter_supported": True,
        "subject_types_supported": ["public"],
        # The configured algorithms (the key ring keeps a key for each), the ID-token default
        # first; RS256 always (OIDC Discovery §3). Never "none": every ID token is signed.
        "id_token_signing_alg_values_supported": list(dict.fromkeys((settings.id_token_signing_alg,
                                                                     *settings.key_ring_algs))),
        "claims_supported": list(CLAIMS),
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }
