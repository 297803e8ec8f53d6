"""What a resource server tells the verifier: whom to trust, for which API, and how to fetch keys.

The defaults are the server's defaults too (``shared.config.Settings`` reads them from here), so a
standalone API and the bundled resource service behave the same unless configured otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

# The algorithms the verifier knows and the key each pins (RFC 8725 §3.1): kty and, for EC/OKP, crv.
# Here, not in .jwks, so reading the config never loads PyJWT and cryptography.
KEY_SHAPES = {"RS256": ("RSA", None), "ES256": ("EC", "P-256"), "EdDSA": ("OKP", "Ed25519")}
SUPPORTED_ALGORITHMS = tuple(KEY_SHAPES)
DEFAULT_LEEWAY = 30  # seconds of clock skew allowed on exp, nbf and iat
DEFAULT_REDIS_PREFIX = "latchkey:"  # the token service writes revoked jtis under this prefix
DEFAULT_JWKS_FETCH_TIMEOUT = 5
DEFAULT_JWKS_MAX_BYTES = 65536
DEFAULT_JWKS_MAX_AGE = 300  # a JWKS response that says nothing about caching is fresh this long
DEFAULT_JWKS_REFETCH_COOLDOWN = 30
DEFAULT_JWKS_CACHE_CAP = 3600
DEFAULT_VERIFIED_TOKEN_CACHE_SIZE = 1024  # about 1.5 KB each


@dataclass(frozen=True, slots=True)
class BearerConfig:
    """``issuer`` is compared exactly with ``iss``; ``audience`` must be in ``aud`` (RFC 9068 §4)."""

    issuer: str
    audience: str
    jwks_url: str
    # Audiences some routes take beside ``audience`` (bearer_middleware's ``audience_at``): the
    # resource service's /userinfo takes a token for another API when it names the endpoint too.
    also_audiences: tuple[str, ...] = ()
    algorithms: tuple[str, ...] = SUPPORTED_ALGORITHMS
    leeway: int = DEFAULT_LEEWAY
    # Revoked jtis are refused only when bearer_context is also given a Redis client.
    check_revocation: bool = True
    redis_prefix: str = DEFAULT_REDIS_PREFIX
    jwks_fetch_timeout: float = DEFAULT_JWKS_FETCH_TIMEOUT
    jwks_max_bytes: int = DEFAULT_JWKS_MAX_BYTES
    jwks_default_max_age: int = DEFAULT_JWKS_MAX_AGE
    jwks_refetch_cooldown: float = DEFAULT_JWKS_REFETCH_COOLDOWN
    # Longest a JWKS is cached whatever max-age says, and how long stale keys serve while refetches fail.
    jwks_cache_cap: int = DEFAULT_JWKS_CACHE_CAP
    # Tokens remembered as verified, so a token used again skips its signature check (0: none).
    verified_token_cache_size: int = DEFAULT_VERIFIED_TOKEN_CACHE_SIZE

    def __post_init__(self) -> None:
        # A typo here would refuse every token (or trust the wrong party) without saying why.
        for name in ("issuer", "audience", "jwks_url"):
            if not getattr(self, name):
                raise ValueError(f"BearerConfig.{name} is required")
        unknown = set(self.algorithms) - set(SUPPORTED_ALGORITHMS)
        if not self.algorithms or unknown:
            raise ValueError(f"BearerConfig.algorithms must be some of {', '.join(SUPPORTED_ALGORITHMS)}")
