"""Typed app state of the token service (aiohttp ``web.AppKey``): one constant per resource."""

from __future__ import annotations

from aiohttp import web

from services.token.core.context import GrantContext
from services.token.key_cache import KeyCache
from services.token.sweeps import GrantSweeper
from shared.stores.pg_audit import PgAudit
from shared.stores.pg_clients import CachedClients
from shared.stores.pg_refresh_tokens import PgRefreshTokens
from shared.stores.redis_denylist import RedisDenylist
from shared.web.app_keys import POOL, REDIS, SETTINGS
from shared.web.rate_limits import RateLimiter

CLIENTS = web.AppKey("clients", CachedClients)
AUDIT = web.AppKey("audit", PgAudit)
REFRESH_TOKENS = web.AppKey("refresh_tokens", PgRefreshTokens)
DENYLIST = web.AppKey("denylist", RedisDenylist)
KEY_CACHE = web.AppKey("key_cache", KeyCache)
SWEEPER = web.AppKey("sweeper", GrantSweeper)
GRANT_CONTEXT = web.AppKey("grant_context", GrantContext)
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)

__all__ = ["AUDIT", "CLIENTS", "DENYLIST", "GRANT_CONTEXT", "KEY_CACHE", "POOL", "RATE_LIMITER", "REDIS",
           "REFRESH_TOKENS", "SETTINGS", "SWEEPER"]
