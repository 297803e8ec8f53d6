"""The demo app's one route table."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from examples.demo_client.endpoints import (
    backchannel,
    callback,
    health,
    home,
    login,
    logout,
    notes,
    refresh,
    revoke,
)

STATIC_DIR = Path(__file__).parent / "static"


def routes() -> list[web.AbstractRouteDef]:
    return [
        web.get("/", home.home),
        web.get("/login", login.login),
        web.get("/callback", callback.callback),
        web.post("/refresh", refresh.refresh),
        web.post("/revoke", revoke.revoke),
        web.post("/notes", notes.add_note),
        web.post("/logout", logout.logout),
        web.get("/signed-out", logout.signed_out),
        web.post("/backchannel-logout", backchannel.backchannel_logout),
        web.get("/healthz", health.healthz),
        web.static("/static", STATIC_DIR),
    ]
