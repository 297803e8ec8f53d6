"""Typed application state of the resource service (aiohttp ``web.AppKey``)."""

from __future__ import annotations

from aiohttp import web

from shared.bearer import BEARER_VERIFIER
from shared.stores.pg_users import PgUsers
from shared.web.app_keys import METRICS, POOL, REDIS, SETTINGS
from shared.stores.pg_notes import PgNotes

USERS = web.AppKey("users", PgUsers)
NOTES = web.AppKey("notes", PgNotes)

__all__ = ["METRICS", "BEARER_VERIFIER", "NOTES", "POOL", "REDIS", "SETTINGS", "USERS"]
