"""One result of `latchkey check`: a named check that passed, failed, or only warns."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True, slots=True)
class Finding:
    name: str
    status: Status
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        return f"{self.status.upper():4} {self.name}: {self.message}"


def ok(name: str, message: str) -> Finding:
    return Finding(name, "ok", message)


def fail(name: str, message: str) -> Finding:
    return Finding(name, "fail", message)


def dev_only(name: str, message: str, dev_mode: bool) -> Finding:
    """A finding that is fine on a dev deployment (LATCHKEY_DEV=1) and a failure elsewhere."""
    return Finding(name, "warn" if dev_mode else "fail", message + (" (allowed: LATCHKEY_DEV=1)" if dev_mode else ""))
