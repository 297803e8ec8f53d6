"""The two cookies of the authorize service, with the attributes RFC 6265bis and OWASP advise.

- the session cookie: who is signed in; renewed (new id) at every login;
- the browser cookie: binds a transaction to the browser that started it, so a sign-in link
  opened elsewhere (or forced on a victim, "login CSRF") cannot be completed.

Both are HttpOnly, SameSite=Lax and path "/"; over https they are Secure and use the
``__Host-`` prefix, which also forbids a Domain attribute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypedDict

from aiohttp import web

# What we issue: shared.crypto.digests.new_secret(32), i.e. secrets.token_urlsafe(32).
ISSUED_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")


class _Attributes(TypedDict):
    """The keyword arguments both cookies are set and deleted with."""

    path: str
    secure: bool
    httponly: bool
    samesite: str


@dataclass(frozen=True, slots=True)
class Cookies:
    secure: bool
    session_ttl: int

    @property
    def session_name(self) -> str:
        return "__Host-latchkey_session" if self.secure else "latchkey_session"

    @property
    def browser_name(self) -> str:
        return "__Host-latchkey_browser" if self.secure else "latchkey_browser"

    def session_id(self, request: web.Request) -> str | None:
        return _issued(request, self.session_name)

    def browser_id(self, request: web.Request) -> str | None:
        return _issued(request, self.browser_name)

    def set_session(self, response: web.StreamResponse, session_id: str) -> None:
        response.set_cookie(self.session_name, session_id, max_age=self.session_ttl, **self._attributes())

    def clear_session(self, response: web.StreamResponse) -> None:
        response.del_cookie(self.session_name, **self._attributes())

    def set_browser(self, response: web.StreamResponse, browser_id: str) -> None:
        # No Max-Age: it lives as long as the browser session, longer than any transaction.
        response.set_cookie(self.browser_name, browser_id, **self._attributes())

    def _attributes(self) -> _Attributes:
        return {"path": "/", "secure": self.secure, "httponly": True, "samesite": "Lax"}


def _issued(request: web.Request, name: str) -> str | None:
    """The cookie's value if it has the exact shape of one we issue; anything else is absent.

    Header bytes that are not UTF-8 reach us surrogate-escaped; hashing them would raise.
    """
    value = request.cookies.get(name)
    return value if value is not None and ISSUED_VALUE.fullmatch(value) else None
