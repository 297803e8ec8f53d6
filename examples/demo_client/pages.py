"""Rendering: templates, redirects, the session cookie, and claims laid out for reading."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from examples.demo_client.sessions import DemoSession, set_cookie
from examples.demo_client.state import CONFIG, SESSION, SESSION_ID, SESSIONS

TIME_CLAIMS = {"exp": "expires", "iat": "issued", "auth_time": "signed in", "nbf": "valid from"}
CLAIM_NOTES = {
    "iss": "who issued it", "sub": "the user, as this issuer names them", "aud": "who it is meant for",
    "azp": "the client it was issued to", "client_id": "the client it was issued to",
    "scope": "what it allows", "jti": "its unique id (what revocation lists)", "nonce": "echoes our nonce",
    "at_hash": "binds it to the access token",
}


def render(request: web.Request, template: str, context: Mapping[str, Any], status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template(template, request, {"config": request.app[CONFIG], **context},
                                          status=status)


def redirect(location: str, status: int = 303) -> web.Response:
    return web.Response(status=status, headers={"Location": location})


def session_of(request: web.Request) -> DemoSession | None:
    return request.get(SESSION)


def ensure_session(request: web.Request) -> DemoSession:
    """The request's session, creating one (the cookie is set by remember_session)."""
    session = request.get(SESSION)
    if session is None:
        session_id, session = request.app[SESSIONS].create()
        request[SESSION_ID], request[SESSION] = session_id, session
    return session


def remember_session(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    config = request.app[CONFIG]
    if SESSION_ID in request:
        set_cookie(response, request[SESSION_ID], secure=config.secure_cookies, max_age=config.session_ttl)
    return response


def claim_rows(claims: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(claim, value as JSON, what it means) for a table."""
    rows = []
    for name, value in claims.items():
        note = CLAIM_NOTES.get(name, "")
        if name in TIME_CLAIMS and isinstance(value, (int, float)):
            when = datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            note = f"{TIME_CLAIMS[name]} {when}"
        rows.append((name, json.dumps(value), note))
    return rows
