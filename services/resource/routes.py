"""The resource service's one route table."""

from __future__ import annotations

from aiohttp import web

from services.resource.cors import USERINFO_METHODS
from services.resource.endpoints import notes
from services.resource.endpoints.userinfo import userinfo
from services.resource.endpoints.whoami import WHOAMI_PATH, whoami
from shared.endpoints import USERINFO_PATH
from shared.web.cors import options_route
from shared.web.health import healthz, readyz
from shared.web.metrics import OPEN_PATHS

# Reachable without a token (the bearer middleware skips them).
PUBLIC_PATHS = OPEN_PATHS


def routes() -> list[web.RouteDef]:
    return [
        web.get("/healthz", healthz),
        web.get("/readyz", readyz),
        web.get(USERINFO_PATH, userinfo),
        web.post(USERINFO_PATH, userinfo),
        options_route(USERINFO_PATH, USERINFO_METHODS),
        web.get(notes.NOTES_PATH, notes.list_notes),
        web.post(notes.NOTES_PATH, notes.create_note),
        web.get(notes.NOTES_PATH + "/{note_id}", notes.get_note),
        web.get(WHOAMI_PATH, whoami),
    ]
