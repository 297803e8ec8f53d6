"""The notes API's own rules: what a new note may be and how a note is shown. Pure, no I/O."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from shared.errors import InvalidRequest, InvalidToken
from shared.stores.pg_notes import Note


def owner_of(subject: str) -> UUID:
    """Notes belong to users; a token whose sub is not a user id cannot own any."""
    try:
        return UUID(subject)
    except ValueError:
        raise InvalidToken("token subject is not a user") from None


def parse_new_note(document: Any, max_chars: int) -> str:
    """``{"body": "..."}``: text, not blank, at most ``max_chars`` characters; nothing else."""
    if not isinstance(document, dict):
        raise InvalidRequest('send a JSON object like {"body": "..."}')
    unknown = sorted(set(document) - {"body"})
    if unknown:
        raise InvalidRequest(f"unknown field {unknown[0]!r}")
    body = document.get("body")
    if not isinstance(body, str) or not body.strip():
        raise InvalidRequest("body must be non-empty text")
    if len(body) > max_chars:
        raise InvalidRequest(f"body must be at most {max_chars} characters")
    if "\x00" in body:
        raise InvalidRequest("body must not contain NUL characters")  # PostgreSQL text refuses them
    return body


def note_json(note: Note) -> dict[str, str]:
    return {"id": str(note.id), "body": note.body, "created_at": note.created_at.isoformat()}
