"""POST /revoke: revoke the refresh token and the access token (RFC 7009 §2). The access
token is kept on purpose, so the page shows the API now refusing it.
"""

from __future__ import annotations

from aiohttp import web

from examples.demo_client.endpoints.guard import signed_in_post
from examples.demo_client.oidc import DemoError
from examples.demo_client.pages import redirect
from examples.demo_client.state import PROVIDER, TOKENS


async def revoke(request: web.Request) -> web.Response:
    session = await signed_in_post(request)
    async with session.token_lock:  # not while a refresh is rotating the tokens (see sessions.py)
        tokens = session.tokens
        if tokens is None or tokens.revoked:
            return redirect("/")  # a second click: already revoked (or signed out)
        metadata = await request.app[PROVIDER].metadata()
        if not metadata.revocation_endpoint:
            raise DemoError("Latchkey's discovery document lists no revocation_endpoint.", 502)
        client = request.app[TOKENS]
        if tokens.refresh_token:
            await client.revoke(metadata.revocation_endpoint, tokens.refresh_token, "refresh_token")
        await client.revoke(metadata.revocation_endpoint, tokens.access_token, "access_token")
        tokens.refresh_token, tokens.revoked = None, True
    session.flash = "Tokens revoked. The API below now refuses the access token; sign in again to continue."
    return redirect("/")
