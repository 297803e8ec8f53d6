"""Typed application state of the resource service (aiohttp ``web.AppKey``)."""

from __future__ import annotations

from aiohttp import web

from services.resource.profiles import CachedProfiles
from shared.bearer import BEARER_VERIFIER
from shared.stores.pg_notes import PgNotes
from shared.web.app_keys import METRICS, POOL, REDIS, SETTINGS

PROFILES = web.AppKey("profiles", CachedProfiles)
NOTES = web.AppKey("notes", PgNotes)

__all__ = ["BEARER_VERIFIER", "METRICS", "NOTES", "POOL", "PROFILES", "REDIS", "SETTINGS"]
