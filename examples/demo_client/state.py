"""Typed state of the demo app (aiohttp ``web.AppKey`` / ``web.RequestKey``)."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from examples.demo_client.config import DemoConfig
from examples.demo_client.logout_token import SeenTokens
from examples.demo_client.provider import Provider
from examples.demo_client.sessions import DemoSession, SessionStore
from examples.demo_client.token_client import TokenClient

CONFIG = web.AppKey("config", DemoConfig)
HTTP = web.AppKey("http", aiohttp.ClientSession)
PROVIDER = web.AppKey("provider", Provider)
TOKENS = web.AppKey("token_client", TokenClient)
SESSIONS = web.AppKey("sessions", SessionStore)
SEEN_LOGOUT_TOKENS = web.AppKey("seen_logout_tokens", SeenTokens)

# The browser's session for this request (None: it has none), and its id.
SESSION = web.RequestKey("session", DemoSession)
SESSION_ID = web.RequestKey("session_id", str)
