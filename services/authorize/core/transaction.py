"""The server-side record of one authorization in progress, between /authorize and the code.

The browser holds only the transaction id (in the URL) and a binding cookie; this record holds
the validated request, the CSRF token its forms must echo, and who logged in for it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from services.authorize.core.authorization_request import AuthorizationRequest
from services.authorize.core.decisions import Authenticated


@dataclass(frozen=True, slots=True)
class Transaction:
    request: AuthorizationRequest
    client_name: str
    csrf: str
    browser: str  # SHA-256 of the browser-binding cookie that started this transaction
    user: Authenticated | None = None  # set once the user is known for this transaction
    granted: tuple[str, ...] = ()  # what the user had approved before: unchanged consent is not rewritten

    def authenticated(self, user: Authenticated) -> Transaction:
        return replace(self, user=user)

    def with_granted(self, granted: frozenset[str]) -> Transaction:
        return replace(self, granted=tuple(sorted(granted)))

    @property
    def adds_consent(self) -> bool:
        return not set(self.request.scope) <= set(self.granted)

    def to_record(self) -> dict[str, Any]:
        # Shallow on purpose: dataclasses.asdict deep-copies and costs more than the Redis call.
        return {**_fields(self), "request": {**_fields(self.request), "prompt": sorted(self.request.prompt)},
                "user": _fields(self.user) if self.user else None}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Transaction:
        request = dict(record["request"], scope=tuple(record["request"]["scope"]),
                       prompt=frozenset(record["request"]["prompt"]))
        user = Authenticated(**record["user"]) if record.get("user") else None
        return cls(request=AuthorizationRequest(**request), client_name=record["client_name"],
                   csrf=record["csrf"], browser=record["browser"], user=user,
                   granted=tuple(record.get("granted", ())))


def _fields(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}
