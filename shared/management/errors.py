"""Why a management operation refused: each type maps to one CLI exit line and one RFC 9457 problem.

The message names what is wrong in words an operator can act on; it never holds a secret.
"""

from __future__ import annotations

from shared.errors import UsageError


class ManagementError(UsageError):
    """Base of every refusal. A ``UsageError``, so the CLI prints it as its one stderr line (exit 2)."""

    status = 400
    title = "Invalid request"


class InvalidInput(ManagementError):
    """A value is malformed or breaks a rule (a wildcard redirect URI, an unknown scope)."""

    status = 422
    title = "Invalid input"


class NotFound(ManagementError):
    status = 404
    title = "Not found"


class Conflict(ManagementError):
    """The operation contradicts the current state (a duplicate identifier, an API still in use)."""

    status = 409
    title = "Conflict"
