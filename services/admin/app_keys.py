"""Typed application and request state of the admin service (aiohttp ``web.AppKey``, ``web.RequestKey``)."""

from __future__ import annotations

from aiohttp import web

from shared.management.admin_tokens import AdminToken
from shared.management.backends import Backends
from shared.web.app_keys import POOL, REDIS, SETTINGS
from shared.web.rate_limits import RateLimiter

# What the management operations work on: the pool, Redis and the settings.
BACKENDS = web.AppKey("backends", Backends)
# Requests per admin token, and requests without a valid token per address (shared.web.rate_limits).
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
# The token the request authenticated with (set by the admin-token middleware on every guarded route).
ADMIN_TOKEN = web.RequestKey("admin_token", AdminToken)

__all__ = ["ADMIN_TOKEN", "BACKENDS", "POOL", "RATE_LIMITER", "REDIS", "SETTINGS"]
