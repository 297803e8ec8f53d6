"""GET /: signed out, an invitation to sign in; signed in, the tokens' claims and what the
resource API answers to this access token right now.
"""

from __future__ import annotations

import asyncio
import time

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
    access_header, access_claims = decode_for_display(tokens.access_token)
    return render(request, "home.html", {
        "signed_in": True, "flash": flash, "config": config, "csrf": session.csrf, "tokens": tokens,
        "who": userinfo.body if userinfo.ok else tokens.id_claims,
        "id_rows": claim_rows(tokens.id_claims), "access_rows": claim_rows(access_claims),
        "access_header": access_header, "expires_in": max(0, int(tokens.expires_at - time.time())),
        "answers": [userinfo, whoami, notes],
        "notes": notes.body.get("notes", []) if notes.ok and isinstance(notes.body, dict) else None,
        "end_session_endpoint": metadata.end_session_endpoint,
    })
