"""Typed application state of the resource service (aiohttp ``web.AppKey``)."""

from __future__ import annotations

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

from shared.bearer import BEARER_VERIFIER
from shared.config import Settings
from services.resource.notes_store import PgNotes
from services.resource.profiles import CachedProfiles

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
REDIS = web.AppKey("redis", Redis)
PROFILES = web.AppKey("profiles", CachedProfiles)
NOTES = web.AppKey("notes", PgNotes)

__all__ = ["BEARER_VERIFIER", "NOTES", "POOL", "PROFILES", "REDIS", "SETTINGS"]
