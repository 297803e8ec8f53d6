"""Calls to the resource API with the access token (RFC 6750 §2.1), kept as the API answered
them (status, body, challenge) so the page can show what a client really sees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass(frozen=True, slots=True)
class ApiAnswer:
    method: str
    url: str
    status: int | None  # None: the API could not be reached
    body: Any
    challenge: str | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def pretty_body(self) -> str:
        return json.dumps(self.body, indent=2, sort_keys=True) if not isinstance(self.body, str) else self.body


async def call_api(session: aiohttp.ClientSession, method: str, url: str, access_token: str, *,
                   timeout: float, json_body: Any = None) -> ApiAnswer:
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    try:
        async with session.request(method, url, headers=headers, json=json_body,
                                   timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            raw = await response.read()
            try:
                body: Any = json.loads(raw) if raw else ""
            except ValueError:
                body = raw.decode("utf-8", "replace")[:2000]
            return ApiAnswer(method, url, response.status, body, response.headers.get("WWW-Authenticate"))
    except (TimeoutError, aiohttp.ClientError) as exc:
        return ApiAnswer(method, url, None, f"could not reach the API ({type(exc).__name__})", None)
