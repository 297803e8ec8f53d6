"""POST /notes: add a note through the resource API (POST /api/notes, scope notes:write)."""

from __future__ import annotations

from aiohttp import web

from examples.demo_client.api_client import call_api
from examples.demo_client.endpoints.guard import signed_in_post
from examples.demo_client.pages import redirect
from examples.demo_client.state import CONFIG, HTTP


async def add_note(request: web.Request) -> web.Response:
    session = await signed_in_post(request)
    assert session.tokens is not None
    form = await request.post()
    body = form.get("body")
    config = request.app[CONFIG]
    answer = await call_api(request.app[HTTP], "POST", config.notes_url, session.tokens.access_token,
                            timeout=config.http_timeout, json_body={"body": body if isinstance(body, str) else ""})
    if answer.ok:
        session.flash = "Note saved by the API."
    else:
        error = answer.body.get("error_description") or answer.body.get("error") if isinstance(answer.body,
                                                                                               dict) else None
        session.flash = f"The API refused the note (HTTP {answer.status}{': ' + error if error else ''})."
    return redirect("/")
