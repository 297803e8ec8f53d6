"""Single-use authorization codes in Redis (RFC 6749 §4.1.2, §10.5).

A code is stored under the SHA-256 of its value with a TTL, and consumed with GETDEL inside a
tiny Lua script that, in the same atomic step and round trip, leaves a "used" marker: a
replayed code is then recognised and what was issued from it can be revoked.
"""

from __future__ import annotations

import dataclasses
import uuid

from redis.asyncio import Redis

from shared import compact_json
from shared.crypto.digests import sha256_hex
from shared.models import AuthorizationGrant, CodeUse
from shared.stores.redis_scripts import LuaScript

# The caller cannot know the grant id before the code is consumed, so the script copies it
# from the stored grant into the marker (cjson is part of every Redis >= 2.6).
_CONSUME = """
local grant = redis.call('GETDEL', KEYS[1])
if grant then
  local use = cjson.decode(ARGV[1])
  use['grant_id'] = cjson.decode(grant)['grant_id']
  redis.call('SET', KEYS[2], cjson.encode(use), 'EX', ARGV[2])
end
return grant
"""

# Completes an authorization transaction: the code is saved only if the transaction key was
# still there to delete, in one atomic step, so of two racing submits exactly one gets a code.
# -1: the code already exists (a 256-bit collision; nothing is touched).
_SAVE_TAKING = """
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
if redis.call('DEL', KEYS[2]) == 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


class RedisCodeStore:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._consume = LuaScript(redis, _CONSUME)
        self._save_taking = LuaScript(redis, _SAVE_TAKING)

    def _keys(self, code: str) -> tuple[str, str]:
        """The code's key and its used marker's, from one digest."""
        digest = sha256_hex(code)
        return f"{self._prefix}code:{digest}", f"{self._prefix}code-used:{digest}"

    def _code_key(self, code: str) -> str:
        return self._keys(code)[0]

    def _used_key(self, code: str) -> str:
        return self._keys(code)[1]

    async def save(self, code: str, grant: AuthorizationGrant, ttl: int) -> None:
        grant = _with_grant_id(grant)
        key, value = self._code_key(code), grant.to_json()
        # NX: a 256-bit code never collides, but if it did we must not overwrite a grant. A SET
        # the client retried after a lost reply (shared.redis_client) finds its own value.
        if not await self._redis.set(key, value, ex=ttl, nx=True) and await self._redis.get(key) != value.encode():
            raise RuntimeError("authorization code collision")

    async def save_taking(self, code: str, grant: AuthorizationGrant, ttl: int, *, taking: str) -> bool:
        """Saves the code only if the key ``taking`` (the transaction it completes) is deleted in the
        same atomic step, one round trip; False, with nothing saved, when that key was already gone."""
        saved: int = await self._save_taking(keys=[self._code_key(code), taking],
                                        args=[_with_grant_id(grant).to_json(), ttl])
        if saved == -1:
            raise RuntimeError("authorization code collision")
        return saved == 1

    async def consume(self, code: str, use: CodeUse, replay_window: int) -> AuthorizationGrant | None:
        """GETDEL plus the used marker, one round trip. ``use.grant_id`` is taken from the grant."""
        # Built by hand: dataclasses.asdict costs more than the rest of this call on the hot path.
        marker = compact_json.dumps({"access_jti": use.access_jti, "access_expires_at": use.access_expires_at})
        raw = await self._consume(keys=self._keys(code), args=[marker, replay_window])
        return AuthorizationGrant.from_json(raw) if raw else None

    async def find_use(self, code: str) -> CodeUse | None:
        raw = await self._redis.get(self._used_key(code))
        return CodeUse.from_json(raw) if raw else None

    async def ttl(self, code: str) -> int:
        """Seconds left (-2 when gone); for tests and diagnostics."""
        return int(await self._redis.ttl(self._code_key(code)))


def _with_grant_id(grant: AuthorizationGrant) -> AuthorizationGrant:
    # Every token issued from the code joins this grant, so a replay can revoke them all.
    return grant if grant.grant_id else dataclasses.replace(grant, grant_id=str(uuid.uuid4()))
