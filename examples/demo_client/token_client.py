"""Server-side calls to the token service: code exchange (RFC 6749 §4.1.3, RFC 7636 §4.5),
refresh (RFC 6749 §6) and revocation (RFC 7009 §2.1), authenticated with client_secret_basic.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import aiohttp

from examples.demo_client.config import DemoConfig
from examples.demo_client.oidc import DemoError


def basic_auth(client_id: str, secret: str) -> str:
    """RFC 6749 §2.3.1: id and secret are form-encoded before base64."""
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


class TokenClient:
    def __init__(self, session: aiohttp.ClientSession, config: DemoConfig) -> None:
        self._session = session
        self._config = config

    async def exchange_code(self, token_endpoint: str, code: str, code_verifier: str) -> dict[str, Any]:
        return await self._post(token_endpoint, {
            "grant_type": "authorization_code", "code": code, "redirect_uri": self._config.redirect_uri,
            "code_verifier": code_verifier,
        })

    async def refresh(self, token_endpoint: str, refresh_token: str) -> dict[str, Any]:
        return await self._post(token_endpoint, {"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def revoke(self, revocation_endpoint: str, token: str, hint: str) -> None:
        await self._post(revocation_endpoint, {"token": token, "token_type_hint": hint}, expect_json=False)

    async def _post(self, url: str, form: dict[str, str], *, expect_json: bool = True) -> dict[str, Any]:
        if not self._config.client_secret:
            raise DemoError("LATCHKEY_DEMO_CLIENT_SECRET is not set: start the demo with `make run`.", 500)
        headers = {"Authorization": basic_auth(self._config.client_id, self._config.client_secret),
                   "Accept": "application/json"}
        try:
            async with self._session.post(url, data=form, headers=headers,
                                          timeout=aiohttp.ClientTimeout(total=self._config.http_timeout)) as r:
                raw, status = await r.read(), r.status
            body = json.loads(raw) if raw.strip() else {}
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise DemoError(f"Could not reach {url} ({type(exc).__name__}).", 502) from None
        if status != 200:
            error = body.get("error", f"HTTP {status}") if isinstance(body, dict) else f"HTTP {status}"
            description = body.get("error_description", "") if isinstance(body, dict) else ""
            raise DemoError(f"{url} refused: {error}" + (f" ({description})" if description else ""), 502)
        if expect_json and not isinstance(body, dict):
            raise DemoError(f"{url} did not answer with a JSON object.", 502)
        return body if isinstance(body, dict) else {}
