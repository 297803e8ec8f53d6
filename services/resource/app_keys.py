"""Typed application state of the resource service (aiohttp ``web.AppKey``)."""

from __future__ import annotations

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

from shared.bearer import BEARER_VERIFIER
from shared.config import Settings
from shared.stores.pg_users import PgUsers
from shared.stores.pg_notes import PgNotes

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
REDIS = web.AppKey("redis", Redis)
USERS = web.AppKey("users", PgUsers)
NOTES = web.AppKey("notes", PgNotes)

__all__ = ["BEARER_VERIFIER", "NOTES", "POOL", "REDIS", "SETTINGS", "USERS"]
