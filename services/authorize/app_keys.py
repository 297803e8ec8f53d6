"""Typed application state of the authorize service (aiohttp ``web.AppKey``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from services.authorize.cookies import Cookies
from services.authorize.core.authorization_request import Policy
from services.authorize.deps import Paths, Stores
from shared.crypto.passwords import Passwords
from shared.web.app_keys import METRICS, POOL, REDIS, SETTINGS

POLICY = web.AppKey("policy", Policy)
PATHS = web.AppKey("paths", Paths)
COOKIES = web.AppKey("cookies", Cookies)
DISCOVERY = web.AppKey("discovery", bytes)
STYLESHEET = web.AppKey("stylesheet", bytes)
HASH_EXECUTOR = web.AppKey("hash_executor", ThreadPoolExecutor)
PASSWORDS = web.AppKey("passwords", Passwords)
STORES = web.AppKey("stores", Stores)

__all__ = [
    "COOKIES", "DISCOVERY", "HASH_EXECUTOR", "METRICS", "PASSWORDS", "PATHS", "POLICY", "POOL", "REDIS", "SETTINGS",
    "STORES", "STYLESHEET",
]
