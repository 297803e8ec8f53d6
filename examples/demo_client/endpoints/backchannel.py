"""POST /backchannel-logout: Latchkey tells the demo, server to server, that a session ended
(OIDC Back-Channel Logout 1.0 §2.5-§2.8).

The form's ``logout_token`` is checked (examples.demo_client.logout_token), used once, and the
demo forgets the tokens of the session it names (sid) or of every session of the user (sub).
Answers 200 once done, 400 with an OAuth error body for a bad request or token, 503 when the
provider's keys cannot be fetched (so the sender tries again); never cached (§2.8).
"""

from __future__ import annotations

import logging

from aiohttp import web

from examples.demo_client.logout_token import LogoutTokenError, verify_logout_token
from examples.demo_client.provider import DiscoveryError
from examples.demo_client.state import CONFIG, PROVIDER, SEEN_LOGOUT_TOKENS, SESSIONS
from shared.errors import OAuthError
from shared.oauth.params import MalformedParameters, parse_urlencoded

log = logging.getLogger("latchkey.demo")

NO_STORE = {"Cache-Control": "no-store"}
FORM = "application/x-www-form-urlencoded"
ENDED_FLASH = "Latchkey ended your session (back-channel logout), so the demo forgot your tokens."


def _answer(status: int, error: str | None = None, description: str | None = None) -> web.Response:
    if error is None:
        return web.Response(status=status, headers=NO_STORE)
    return web.json_response({"error": error, "error_description": description}, status=status, headers=NO_STORE)


async def backchannel_logout(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    if request.content_type != FORM:
        return _answer(400, "invalid_request", f"the body must be {FORM}")
    try:
        params = parse_urlencoded(await request.read(), max_params=10)
    except MalformedParameters as exc:
        return _answer(400, "invalid_request", str(exc))
    raw = params.first("logout_token")
    if raw is None or params.is_repeated("logout_token"):
        return _answer(400, "invalid_request", "exactly one logout_token is required")
    try:
        token = await verify_logout_token(request.app[PROVIDER], raw, client_id=config.client_id,
                                          leeway=config.clock_leeway)
    except LogoutTokenError as exc:
        log.info("back-channel logout refused: %s", exc)  # the reason only, never the token
        return _answer(400, "invalid_request", f"logout_token refused: {exc}")
    except (DiscoveryError, OAuthError) as exc:
        log.warning("back-channel logout cannot be checked now: %s", exc)
        return _answer(503, "temporarily_unavailable", "the provider's keys cannot be fetched; try again")
    if not request.app[SEEN_LOGOUT_TOKENS].first_use(token, config.clock_leeway):
        log.info("back-channel logout refused: replayed jti")
        return _answer(400, "invalid_request", "logout_token refused: this token was already used")
    ended = request.app[SESSIONS].end_signed_in(sid=token.sid, sub=token.sub, flash=ENDED_FLASH)
    log.info("back-channel logout: %d demo session(s) ended (%s)", ended, "by sid" if token.sid else "by sub")
    return _answer(200)
