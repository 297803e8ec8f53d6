"""Driving the browser half of the authorization code flow in tests: authorize, login, consent.

Works with anything that has aiohttp's client interface and keeps cookies: a pytest-aiohttp
``TestClient`` over the authorize app, or an ``aiohttp.ClientSession(base_url=...)``. Forms are
filled the way a browser would (docs/contract.md field names, the hidden CSRF field echoed back).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from shared.pkce import s256_challenge

CSRF_FIELD = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)">')
MAX_PAGES = 4


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(48)
        return cls(verifier, s256_challenge(verifier))


def authorization_params(*, client_id: str, redirect_uri: str | None, scope: str, state: str | None = "st-1",
                         nonce: str | None = "n-1", code_verifier: str | None = None,
                         **extra: str | None) -> dict[str, str]:
    """The query of an authorization request; None leaves a parameter out."""
    params: dict[str, str | None] = {
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
        "state": state, "nonce": nonce,
    }
    if code_verifier is not None:
        params |= {"code_challenge": s256_challenge(code_verifier), "code_challenge_method": "S256"}
    params |= extra
    return {k: v for k, v in params.items() if v is not None}


def csrf_token(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has no hidden csrf field"
    return found.group(1)


def is_internal(location: str) -> bool:
    """Our own pages redirect with a path; the client's redirect URI is absolute."""
    return not urlsplit(location).scheme


def location_of(response: Any) -> str:
    assert response.status in (302, 303), f"expected a redirect, got {response.status}"
    location: str = response.headers["Location"]
    return location


async def authorize_as_browser(client: Any, params: dict[str, str], *, username: str, password: str,
                               decision: str = "allow") -> dict[str, str]:
    """GET /authorize, then log in and answer consent when asked; returns the query the client got."""
    location = location_of(await client.get("/authorize", params=params, allow_redirects=False))
    for _ in range(MAX_PAGES):
        if not is_internal(location):
            return dict(parse_qsl(urlsplit(location).query))
        page = await client.get(location, allow_redirects=False)
        html = await page.text()
        assert page.status == 200, f"GET {urlsplit(location).path}: {page.status} {html[:300]}"
        if urlsplit(location).path.endswith("/login"):
            form = {"csrf": csrf_token(html), "username": username, "password": password}
        else:
            form = {"csrf": csrf_token(html), "decision": decision}
        location = location_of(await client.post(location, data=form, allow_redirects=False))
    raise AssertionError(f"no redirect to the client after {MAX_PAGES} pages")


async def obtain_code(client: Any, *, client_id: str, redirect_uri: str | None, username: str, password: str,
                      scope: str = "openid", code_verifier: str | None = None, state: str = "st-1",
                      nonce: str | None = "n-1", **extra: str | None) -> str:
    """Logs in (when needed) and consents; returns the code delivered to the redirect URI.

    ``redirect_uri=None`` omits it (allowed only for a client with one registered URI and no
    openid scope). ``code_verifier`` adds its S256 challenge. Extra keywords become parameters.
    """
    params = authorization_params(client_id=client_id, redirect_uri=redirect_uri, scope=scope, state=state,
                                  nonce=nonce, code_verifier=code_verifier, **extra)
    callback = await authorize_as_browser(client, params, username=username, password=password)
    assert "code" in callback, f"no code at the redirect URI: {callback}"
    assert callback.get("state") == state, "state was not echoed"
    return callback["code"]


def redirect_query(response: Any) -> dict[str, str]:
    """The query of a redirect (to the client or to one of our pages)."""
    return dict(parse_qsl(urlsplit(location_of(response)).query))


@dataclass(frozen=True)
class Page:
    """One of our form pages: where it lives, its HTML and the CSRF token to echo."""

    location: str
    html: str
    csrf: str


async def open_page(client: Any, location: str) -> Page:
    page = await client.get(location, allow_redirects=False)
    html = await page.text()
    assert page.status == 200, f"GET {location}: {page.status}"
    return Page(location, html, csrf_token(html))


async def open_login(client: Any, params: dict[str, str]) -> Page:
    """GET /authorize with no session and open the login page it redirects to."""
    location = location_of(await client.get("/authorize", params=params, allow_redirects=False))
    assert urlsplit(location).path.endswith("/login"), f"expected the login page, got {location}"
    return await open_page(client, location)


async def submit_login(client: Any, page: Page, username: str, password: str) -> Any:
    return await client.post(page.location, data={"csrf": page.csrf, "username": username, "password": password},
                             allow_redirects=False)
