"""Fetches the trusted JWK set over HTTP: bounded in time and size, no redirects followed."""

from __future__ import annotations

import json

import aiohttp

from .jwks import FetchedJwks, JwksUnavailable, max_age_from_headers

_ACCEPT = "application/jwk-set+json, application/json"


class HttpJwksFetcher:
    def __init__(self, session: aiohttp.ClientSession, url: str, *, timeout: float, max_bytes: int) -> None:
        self._session = session
        self._url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_bytes = max_bytes

    async def fetch(self) -> FetchedJwks:
        try:
            async with self._session.get(self._url, timeout=self._timeout, allow_redirects=False,
                                         headers={"Accept": _ACCEPT}) as response:
                if response.status != 200:
                    raise JwksUnavailable(f"{self._url} answered HTTP {response.status}")
                body = await self._read_bounded(response)
                max_age = max_age_from_headers(response.headers.get("Cache-Control"), response.headers.get("Age"))
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise JwksUnavailable(f"{self._url}: {type(exc).__name__}") from None
        try:
            return FetchedJwks(document=json.loads(body), max_age=max_age)
        except ValueError:
            raise JwksUnavailable(f"{self._url} did not return JSON") from None

    async def _read_bounded(self, response: aiohttp.ClientResponse) -> bytes:
        body = bytearray()
        async for chunk in response.content.iter_chunked(8192):
            body += chunk
            if len(body) > self._max_bytes:
                raise JwksUnavailable(f"{self._url} returned more than {self._max_bytes} bytes")
        return bytes(body)
