"""GET /api/whoami: the verified access token as this API sees it (RFC 9068 §2.2 claims).

Any valid access token may ask, and nothing but the token is read: it is the smallest
protected endpoint (the one `make bench` measures against the floor) and shows API authors
what ``request[ACCESS_TOKEN]`` holds.
"""

from __future__ import annotations

from aiohttp import web

from shared.bearer import ACCESS_TOKEN

WHOAMI_PATH = "/api/whoami"


async def whoami(request: web.Request) -> web.Response:
    access = request[ACCESS_TOKEN]  # set by the bearer middleware, which guards every route
    return web.json_response({
        "sub": access.subject, "client_id": access.client_id, "scope": " ".join(sorted(access.scopes)),
        "exp": access.expires_at, "auth_time": access.auth_time,
    })
