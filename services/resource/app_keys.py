"""Typed application state of the resource service (aiohttp ``web.AppKey``)."""

from __future__ import annotations

from aiohttp import web

from services.resource.profiles import CachedProfiles
from shared.bearer import BEARER_VERIFIER
from shared.stores.pg_clients import CachedClients
from shared.stores.pg_notes import PgNotes
from shared.web.app_keys import METRICS, POOL, REDIS, SETTINGS

PROFILES = web.AppKey("profiles", CachedProfiles)
NOTES = web.AppKey("notes", PgNotes)
CLIENTS = web.AppKey("clients", CachedClients)  # for CORS: which origins a token's client allows

__all__ = ["BEARER_VERIFIER", "CLIENTS", "METRICS", "NOTES", "POOL", "PROFILES", "REDIS", "SETTINGS"]
