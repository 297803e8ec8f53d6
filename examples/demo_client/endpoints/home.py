"""GET /: signed out, an invitation to sign in; signed in, the tokens' claims and what the
resource API answers to this access token right now.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from examples.demo_client.api_client import call_api
from examples.demo_client.oidc import decode_for_display
from examples.demo_client.pages import claim_rows, render, session_of
from examples.demo_client.state import CONFIG, HTTP, PROVIDER


async def home(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    session = session_of(request)
    flash = session.take_flash() if session is not None else None
    if session is None or session.tokens is None:
        return render(request, "home.html", {"signed_in": False, "configured": bool(config.client_secret),
                                             "flash": flash, "config": config})
    tokens = session.tokens
    metadata = await request.app[PROVIDER].metadata()
    http, timeout = request.app[HTTP], config.http_timeout
    userinfo, whoami, notes = await asyncio.gather(
        call_api(http, "GET", metadata.userinfo_endpoint, tokens.access_token, timeout=timeout),
        call_api(http, "GET", config.whoami_url, tokens.access_token, timeout=timeout),
        call_api(http, "GET", config.notes_url, tokens.access_token, timeout=timeout),
    )
    if userinfo.ok and isinstance(userinfo.body, dict) and userinfo.body.get("sub") == tokens.id_claims.get("sub"):
        session.profile = userinfo.body
    access_header, access_claims = decode_for_display(tokens.access_token)
    return render(request, "home.html", {
        "signed_in": True, "flash": flash, "config": config, "csrf": session.csrf, "tokens": tokens,
        "who": who(session.profile, tokens.id_claims),
        "id_rows": claim_rows(tokens.id_claims), "access_rows": claim_rows(access_claims),
        "access_header": access_header, "expires_in": max(0, int(tokens.expires_at - time.time())),
        "answers": [userinfo, whoami, notes], "refused": userinfo.status == 401,
        "notes": notes.body.get("notes", []) if notes.ok and isinstance(notes.body, dict) else None,
    })


def who(profile: dict[str, Any] | None, id_claims: dict[str, Any]) -> dict[str, Any]:
    """The user as userinfo last described them, still known once the API refuses the token
    (after "Revoke tokens"); the ID token's claims when userinfo never answered."""
    if profile is not None and profile.get("sub") == id_claims.get("sub"):
        return profile
    return id_claims
