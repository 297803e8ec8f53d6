"""The server-side record of a sign-in for the account page: a login with no client behind it.

Its only destination is the account page itself, fixed here and never taken from the request, so
"sign in, then go back to where you were" cannot become an open redirect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KIND = "account_sign_in"


@dataclass(frozen=True, slots=True)
class AccountSignIn:
    csrf: str
    browser: str  # SHA-256 of the browser-binding cookie, as for an authorization transaction

    def to_record(self) -> dict[str, Any]:
        return {"kind": KIND, "csrf": self.csrf, "browser": self.browser}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> AccountSignIn:
        return cls(csrf=record["csrf"], browser=record["browser"])
