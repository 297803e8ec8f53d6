"""The demo app's factory: ``create_app(config)``; nothing connects at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aiohttp
import aiohttp_jinja2
import jinja2
from aiohttp import web

from examples.demo_client.config import DemoConfig
from examples.demo_client.logout_token import SeenTokens
from examples.demo_client.middleware import error_page_middleware, session_middleware
from examples.demo_client.provider import Provider
from examples.demo_client.routes import routes
from examples.demo_client.sessions import SessionStore
from examples.demo_client.state import CONFIG, HTTP, PROVIDER, SEEN_LOGOUT_TOKENS, SESSIONS, TOKENS
from examples.demo_client.token_client import TokenClient
from shared.web.security_headers import PAGE_CSP, security_headers_middleware


def page_csp(config: DemoConfig) -> str:
    """The pages' CSP, except that forms may also lead to the issuer's origin: "Sign out" posts to
    the demo, which redirects to Latchkey's end_session_endpoint, and browsers apply form-action
    to the redirects that follow a form's submission too."""
    issuer = urlsplit(config.issuer)
    csp = PAGE_CSP.replace("form-action 'self'", f"form-action 'self' {issuer.scheme}://{issuer.netloc}")
    assert csp != PAGE_CSP, "PAGE_CSP no longer says form-action 'self'"
    return csp


def create_app(config: DemoConfig) -> web.Application:
    app = web.Application(middlewares=[
        security_headers_middleware(https=config.secure_cookies, csp=page_csp(config)),
        error_page_middleware,
        session_middleware,
    ])
    app[CONFIG] = config
    app[SESSIONS] = SessionStore(config.session_ttl, config.max_sessions)
    app[SEEN_LOGOUT_TOKENS] = SeenTokens()
    aiohttp_jinja2.setup(app, loader=jinja2.PackageLoader("examples.demo_client", "templates"), autoescape=True)
    app.cleanup_ctx.append(_http_client)
    app.add_routes(routes())
    return app


async def _http_client(app: web.Application) -> AsyncIterator[None]:
    """One pooled HTTP client for discovery, JWKS, the token service and the API."""
    async with aiohttp.ClientSession() as session:
        app[HTTP] = session
        app[PROVIDER] = Provider(session, app[CONFIG].issuer, app[CONFIG].http_timeout)
        app[TOKENS] = TokenClient(session, app[CONFIG])
        try:
            yield
        finally:
            await app[PROVIDER].close()
