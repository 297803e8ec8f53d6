"""The demo app's own sessions: server-side, in memory, found by an opaque random cookie.

Nothing but a 256-bit random id ever reaches the browser; the tokens stay on the server
(the usual "backend for frontend" shape). Sessions expire, and the store is bounded.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from shared.crypto.digests import constant_time_equals

COOKIE_NAME = "latchkey_demo_session"


@dataclass
class PendingLogin:
    """What a started sign-in must find again on the way back (RFC 6749 §10.12, OIDC §3.1.2.1)."""

    state: str
    nonce: str
    code_verifier: str
    started_at: float


@dataclass
class TokenSet:
    access_token: str
    refresh_token: str | None
    id_token: str | None
    id_claims: dict[str, Any]
    expires_at: float
    scope: str
    revoked: bool = False


@dataclass
class DemoSession:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    pending: PendingLogin | None = None
    tokens: TokenSet | None = None
    flash: str | None = None
    # The user's profile as userinfo last gave it: the page still names them once the API
    # refuses the token (after "Revoke tokens").
    profile: dict[str, Any] | None = None
    # The state sent with the RP-initiated logout; the way back must return it (RP-Initiated Logout §3).
    logout_state: str | None = None
    # Serialises refresh/revoke/logout: a double-clicked "Refresh tokens" must not present the same
    # refresh token twice, which the token service rightly takes for reuse (RFC 9700 §4.14.2).
    token_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)

    def csrf_matches(self, presented: str | None) -> bool:
        return presented is not None and constant_time_equals(presented, self.csrf)

    def take_flash(self) -> str | None:
        flash, self.flash = self.flash, None
        return flash


class SessionStore:
    """Least recently used sessions are dropped first when the store is full."""

    def __init__(self, ttl: int, max_sessions: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._max = max_sessions
        self._clock = clock
        self._sessions: OrderedDict[str, tuple[float, DemoSession]] = OrderedDict()

    def get(self, session_id: str | None) -> DemoSession | None:
        entry = self._sessions.get(session_id) if session_id else None
        if entry is None or session_id is None:
            return None
        if entry[0] <= self._clock():
            del self._sessions[session_id]
            return None
        self._sessions.move_to_end(session_id)
        return entry[1]

    def create(self) -> tuple[str, DemoSession]:
        while len(self._sessions) >= self._max:
            self._sessions.popitem(last=False)
        session_id, session = secrets.token_urlsafe(32), DemoSession()
        self._sessions[session_id] = (self._clock() + self._ttl, session)
        return session_id, session

    def rotate(self, session_id: str, session: DemoSession) -> str:
        """A new id for the same session once someone signs in, so an id planted before
        sign-in (session fixation) is worth nothing after it."""
        self.drop(session_id)
        new_id = secrets.token_urlsafe(32)
        self._sessions[new_id] = (self._clock() + self._ttl, session)
        return new_id

    def drop(self, session_id: str | None) -> None:
        if session_id:
            self._sessions.pop(session_id, None)

    def end_signed_in(self, *, sid: str | None, sub: str | None, flash: str) -> int:
        """Back-Channel Logout §2.7: forgets the tokens of the session named by sid, or of every
        session of sub when no sid is given; returns how many ended. The browser keeps its
        (now signed-out) session so its next page can say what happened."""
        ended, now = 0, self._clock()
        for expires, session in self._sessions.values():
            tokens = session.tokens
            if expires <= now or tokens is None:
                continue
            claims = tokens.id_claims
            if (sid is not None and claims.get("sid") != sid) or (sub is not None and claims.get("sub") != sub):
                continue
            session.tokens, session.profile, session.flash = None, None, flash
            ended += 1
        return ended


def set_cookie(response: web.StreamResponse, session_id: str, *, secure: bool, max_age: int) -> None:
    # SameSite=Lax: sent on the top-level redirect back from Latchkey, not on cross-site posts.
    response.set_cookie(COOKIE_NAME, session_id, max_age=max_age, path="/", httponly=True,
                        secure=secure, samesite="Lax")


def clear_cookie(response: web.StreamResponse, *, secure: bool) -> None:
    response.del_cookie(COOKIE_NAME, path="/", secure=secure, httponly=True, samesite="Lax")
