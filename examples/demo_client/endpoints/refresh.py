"""POST /refresh: new tokens from the refresh token (RFC 6749 §6); the old one is rotated away."""

from __future__ import annotations

from aiohttp import web

from examples.demo_client.endpoints.guard import signed_in_post
from examples.demo_client.oidc import DemoError
from examples.demo_client.pages import redirect
from examples.demo_client.state import CONFIG, PROVIDER, TOKENS
from examples.demo_client.token_set import token_set_from


async def refresh(request: web.Request) -> web.Response:
    session = await signed_in_post(request)
    presented = session.tokens.refresh_token if session.tokens else None
    async with session.token_lock:
        tokens = session.tokens  # re-read: another request may have changed them while we waited
        if tokens is None or (tokens.refresh_token != presented and tokens.refresh_token is not None):
            return redirect("/")  # a second click: the first one already refreshed (or signed out)
        if not tokens.refresh_token:
            raise DemoError("There is no refresh token to use (revoked, or offline_access was not granted).")
        metadata = await request.app[PROVIDER].metadata()
        response = await request.app[TOKENS].refresh(metadata.token_endpoint, tokens.refresh_token)
        fresh = await token_set_from(response, request.app[PROVIDER], request.app[CONFIG], nonce=None,
                                     previous=tokens)
        if session.tokens is not tokens:  # a back-channel logout ended the session meanwhile: stay out
            return redirect("/")
        session.tokens = fresh
    session.flash = "Tokens refreshed: a new access token, and the refresh token was rotated."
    return redirect("/")
