"""/api/notes: a user's own notes. GET needs notes:read, POST needs notes:write.

The owner is always the token's subject, never a request parameter: no request can name
another user's notes, and a note id that is not the caller's is simply not found. A token whose
user was deleted or disabled is refused as invalid_token, as /userinfo refuses it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web

from services.resource.app_keys import NOTES, SETTINGS
from services.resource.core.notes import note_json, owner_of, parse_new_note
from services.resource.inactive_user import inactive_user
from shared.bearer import ACCESS_TOKEN, require_scope
from shared.errors import InvalidRequest
from shared.stores.pg_notes import UnknownOwner

NOTES_PATH = "/api/notes"


async def _json_body(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise InvalidRequest("send application/json")
    try:
        return await request.json()
    except ValueError:
        raise InvalidRequest("body is not valid JSON") from None


@require_scope("notes:read")
async def list_notes(request: web.Request) -> web.Response:
    owner = owner_of(request[ACCESS_TOKEN].subject)
    try:
        notes = await request.app[NOTES].list_for(owner, request.app[SETTINGS].notes_page_size)
    except UnknownOwner:
        raise inactive_user(request) from None
    return web.json_response({"notes": [note_json(n) for n in notes]})


@require_scope("notes:read")
async def get_note(request: web.Request) -> web.Response:
    owner = owner_of(request[ACCESS_TOKEN].subject)
    try:
        note_id = UUID(request.match_info["note_id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    try:
        note = await request.app[NOTES].get_for(owner, note_id)
    except UnknownOwner:
        raise inactive_user(request) from None
    if note is None:
        raise web.HTTPNotFound()
    return web.json_response(note_json(note))


@require_scope("notes:write")
async def create_note(request: web.Request) -> web.Response:
    owner = owner_of(request[ACCESS_TOKEN].subject)
    body = parse_new_note(await _json_body(request), request.app[SETTINGS].note_max_chars)
    try:
        note = await request.app[NOTES].create(owner, body)
    except UnknownOwner:
        raise inactive_user(request) from None
    return web.json_response(note_json(note), status=201, headers={"Location": f"{NOTES_PATH}/{note.id}"})
