"""Discovery (RFC 8414 §3, OIDC Discovery §4) and the JWKS, fetched through the public URLs as a
client would, compared with what the settings say they must be."""

from __future__ import annotations

from typing import Any

import aiohttp

from shared.config import Settings
from shared.deploy_check.findings import Finding, fail, ok
from shared.endpoints import Endpoints

DISCOVERY_PATHS = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")
TIMEOUT = aiohttp.ClientTimeout(total=10)


async def fetch_json(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with session.get(url, allow_redirects=False) as response:
        if response.status != 200:
            raise ValueError(f"{url} answered {response.status}")
        document = await response.json(content_type=None)
        if not isinstance(document, dict):
            raise ValueError(f"{url} is not a JSON object")
        return document


def expected_endpoints(settings: Settings) -> dict[str, str]:
    urls = Endpoints.from_settings(settings)
    return {"issuer": urls.issuer, "authorization_endpoint": urls.authorization, "token_endpoint": urls.token,
            "jwks_uri": urls.jwks, "userinfo_endpoint": urls.userinfo, "revocation_endpoint": urls.revocation,
            "introspection_endpoint": urls.introspection}


def check_discovery(settings: Settings, path: str, document: dict[str, Any]) -> list[Finding]:
    name = f"discovery {path}"
    wrong = [f"{field} is {document.get(field)!r}, settings say {url!r}"
             for field, url in expected_endpoints(settings).items() if document.get(field) != url]
    found = [fail(name, "; ".join(wrong)) if wrong else ok(name, "issuer and endpoints match the settings")]
    methods = document.get("code_challenge_methods_supported")
    found.append(ok(f"{name} pkce", "S256 only") if methods == ["S256"]
                 else fail(f"{name} pkce",
                           f"code_challenge_methods_supported is {methods!r}, want [\"S256\"] (no plain)"))
    if document.get("authorization_response_iss_parameter_supported") is True:
        found.append(ok(f"{name} iss", "authorization responses carry iss (RFC 9207)"))
    else:
        found.append(fail(f"{name} iss", "authorization_response_iss_parameter_supported is not true (RFC 9207)"))
    algs = document.get("id_token_signing_alg_values_supported")
    want = set(settings.key_ring_algs) | {settings.id_token_signing_alg}
    if not isinstance(algs, list) or set(algs) != want:
        found.append(fail(f"{name} algorithms", f"id_token_signing_alg_values_supported is {algs!r}, "
                                                f"settings say {sorted(want)}"))
    return found


async def fetch_published(settings: Settings) -> tuple[list[Finding], dict[str, dict[str, Any]] | None]:
    """The discovery findings and the published JWKS by kid (None when it could not be read)."""
    found: list[Finding] = []
    jwks: dict[str, dict[str, Any]] | None = None
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        for path in DISCOVERY_PATHS:
            url = settings.issuer + path
            try:
                found.extend(check_discovery(settings, path, await fetch_json(session, url)))
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                found.append(fail(f"discovery {path}", f"cannot fetch {url}: {_reason(exc)}"))
        url = Endpoints.from_settings(settings).jwks
        try:
            document = await fetch_json(session, url)
            jwks = {key["kid"]: key for key in document.get("keys", []) if isinstance(key, dict) and "kid" in key}
            found.append(ok("jwks", f"{url} publishes {len(jwks)} keys"))
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            found.append(fail("jwks", f"cannot fetch {url}: {_reason(exc)}"))
    return found, jwks


def _reason(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
