"""Typed app state of the token service (aiohttp ``web.AppKey``): one constant per resource."""

from __future__ import annotations

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

from shared.config import Settings
from shared.stores.pg_audit import PgAudit
from shared.stores.pg_clients import CachedClients
from shared.stores.pg_refresh_tokens import PgRefreshTokens
from shared.stores.redis_denylist import RedisDenylist
from services.token.core.context import GrantPorts
from services.token.key_cache import KeyCache
from services.token.sweeps import GrantSweeper

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
REDIS = web.AppKey("redis", Redis)
CLIENTS = web.AppKey("clients", CachedClients)
AUDIT = web.AppKey("audit", PgAudit)
REFRESH_TOKENS = web.AppKey("refresh_tokens", PgRefreshTokens)
DENYLIST = web.AppKey("denylist", RedisDenylist)
KEY_CACHE = web.AppKey("key_cache", KeyCache)
SWEEPER = web.AppKey("sweeper", GrantSweeper)
GRANT_PORTS = web.AppKey("grant_ports", GrantPorts)
