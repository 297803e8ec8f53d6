"""The "floor" of the token benchmark: a bare aiohttp handler doing only the minimum work of a
code exchange, one GETDEL, one INSERT (a refresh-token row, same table as the real service),
an RS256 and an ES256 signature, and a JSON answer. No validation, no client authentication.

Run as ``python -m tests.bench.floor --port P`` with DATABASE_URL, REDIS_URL,
LATCHKEY_REDIS_PREFIX, BENCH_CLIENT_ID and BENCH_USER_ID set; on uvloop, like `latchkey serve`.
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from redis.asyncio import Redis

from shared.cli.serve import new_event_loop
from shared.config import Settings
from shared.db import create_pool
from shared.redis_client import create_redis

POOL, REDIS = web.AppKey("pool", asyncpg.Pool), web.AppKey("redis", Redis)


def create_app(settings: Settings, client_id: str, user_id: uuid.UUID) -> web.Application:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    prefix = settings.redis_prefix

    async def resources(app: web.Application):
        app[POOL] = await create_pool(settings)
        app[REDIS] = create_redis(settings)
        yield
        await app[REDIS].aclose()
        await app[POOL].close()

    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        if await request.app[REDIS].getdel(f"{prefix}floor:{form['code']!s}") is None:
            return web.json_response({"error": "invalid_grant"}, status=400)
        now = datetime.now(UTC)
        await request.app[POOL].execute(
            """INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, scope, auth_time,
                                           expires_at, family_expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            secrets.token_hex(32), uuid.uuid4(), client_id, user_id, ["openid", "offline_access"], now,
            now + timedelta(days=7), now + timedelta(days=30))
        iat = int(time.time())
        claims = {"iss": settings.issuer, "sub": str(user_id), "aud": client_id, "iat": iat, "exp": iat + 600,
                  "jti": secrets.token_urlsafe(16)}
        access = jwt.encode(claims, rsa_key, algorithm="RS256", headers={"typ": "at+jwt", "kid": "rsa"})
        id_token = jwt.encode(claims, ec_key, algorithm="ES256", headers={"kid": "ec"})
        return web.json_response({"access_token": access, "id_token": id_token, "token_type": "Bearer",
                                  "expires_in": 600, "refresh_token": secrets.token_urlsafe(32)},
                                 headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.cleanup_ctx.append(resources)
    app.add_routes([web.post("/token", token), web.get("/healthz", healthz)])
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = Settings.from_env(os.environ)
    app = create_app(settings, os.environ["BENCH_CLIENT_ID"], uuid.UUID(os.environ["BENCH_USER_ID"]))
    web.run_app(app, host="127.0.0.1", port=args.port, loop=new_event_loop(), print=None, access_log=None)


if __name__ == "__main__":
    main()
