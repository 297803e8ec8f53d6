"""What the demo learns from {issuer}/.well-known/openid-configuration (OIDC Discovery §4),
fetched on first use and kept; and the provider's keys, to check ID token signatures.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp

from shared.bearer.http_jwks import HttpJwksFetcher
from shared.bearer.jwks import JwksCache
from shared.bearer.jws_verify import VerificationKey
from shared.config import SIGNING_ALGS

DISCOVERY_PATH = "/.well-known/openid-configuration"
REQUIRED = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint")
JWKS_REFETCH_COOLDOWN = 10
JWKS_DEFAULT_MAX_AGE, JWKS_MAX_AGE_CAP, JWKS_MAX_BYTES = 300, 3600, 65536


class DiscoveryError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str
    revocation_endpoint: str | None
    end_session_endpoint: str | None
    iss_parameter_supported: bool
    id_token_algs: frozenset[str]

    @classmethod
    def parse(cls, document: Any, expected_issuer: str) -> ProviderMetadata:
        if not isinstance(document, dict) or any(not isinstance(document.get(k), str) for k in REQUIRED):
            raise DiscoveryError("the discovery document lacks required endpoints")
        if document["issuer"] != expected_issuer:  # OIDC Discovery §4.3
            raise DiscoveryError(f"the discovery document names issuer {document['issuer']!r}")
        algs = frozenset(document.get("id_token_signing_alg_values_supported") or ()) & frozenset(SIGNING_ALGS)
        return cls(
            issuer=document["issuer"], authorization_endpoint=document["authorization_endpoint"],
            token_endpoint=document["token_endpoint"], jwks_uri=document["jwks_uri"],
            userinfo_endpoint=document["userinfo_endpoint"],
            revocation_endpoint=document.get("revocation_endpoint"),
            # RP-Initiated Logout 1.0 at the advertised end_session_endpoint; {issuer}/logout when none is.
            end_session_endpoint=document.get("end_session_endpoint") or f"{document['issuer']}/logout",
            iss_parameter_supported=document.get("authorization_response_iss_parameter_supported") is True,
            id_token_algs=algs or frozenset({"RS256"}),
        )


class Provider:
    """Discovery and keys of one issuer; concurrent first requests share one fetch."""

    def __init__(self, session: aiohttp.ClientSession, issuer: str, timeout: float) -> None:
        self._session = session
        self._issuer = issuer
        self._timeout = timeout
        self._metadata: ProviderMetadata | None = None
        self._keys: JwksCache | None = None
        self._lock = asyncio.Lock()

    async def metadata(self) -> ProviderMetadata:
        if self._metadata is None:
            async with self._lock:
                if self._metadata is None:
                    self._metadata = await self._discover()
                    self._keys = JwksCache(
                        HttpJwksFetcher(self._session, self._metadata.jwks_uri, timeout=self._timeout,
                                        max_bytes=JWKS_MAX_BYTES),
                        algorithms=self._metadata.id_token_algs, cooldown=JWKS_REFETCH_COOLDOWN,
                        default_max_age=JWKS_DEFAULT_MAX_AGE, max_age_cap=JWKS_MAX_AGE_CAP)
        return self._metadata

    async def close(self) -> None:
        """Stops a background JWKS refetch still in flight (the cache revalidates stale keys)."""
        if self._keys is not None:
            await self._keys.close()

    async def id_token_key(self, kid: str) -> VerificationKey:
        await self.metadata()
        assert self._keys is not None
        return await self._keys.key_for(kid)

    async def _discover(self) -> ProviderMetadata:
        url = self._issuer + DISCOVERY_PATH
        try:
            async with self._session.get(url, timeout=aiohttp.ClientTimeout(total=self._timeout)) as response:
                if response.status != 200:
                    raise DiscoveryError(f"{url} answered HTTP {response.status}")
                document = await response.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise DiscoveryError(f"cannot read {url} ({type(exc).__name__})") from None
        return ProviderMetadata.parse(document, self._issuer)
