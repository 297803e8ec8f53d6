"""Typed application state of the authorize service (aiohttp ``web.AppKey``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

from services.authorize.cookies import Cookies
from services.authorize.core.authorization_request import Policy
from services.authorize.deps import Paths, Stores
from shared.config import Settings
from shared.crypto.passwords import Passwords

SETTINGS = web.AppKey("settings", Settings)
POLICY = web.AppKey("policy", Policy)
PATHS = web.AppKey("paths", Paths)
COOKIES = web.AppKey("cookies", Cookies)
DISCOVERY = web.AppKey("discovery", bytes)
STYLESHEET = web.AppKey("stylesheet", bytes)
POOL = web.AppKey("pool", asyncpg.Pool)
REDIS = web.AppKey("redis", Redis)
HASH_EXECUTOR = web.AppKey("hash_executor", ThreadPoolExecutor)
PASSWORDS = web.AppKey("passwords", Passwords)
STORES = web.AppKey("stores", Stores)
