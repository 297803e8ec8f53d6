"""LuaScript: EVALSHA first, and a script the server does not know (a restart, a failover to a
replica, SCRIPT FLUSH) loaded and run in the same call."""

from __future__ import annotations

import hashlib
import secrets

from shared.stores.redis_scripts import LuaScript


def _source() -> str:
    # A script no server has seen: a comment of its own changes its SHA1.
    return f"-- {secrets.token_hex(8)}\nreturn {{#KEYS, #ARGV, KEYS[1], ARGV[1]}}"


async def test_a_script_the_server_lacks_is_loaded_then_run(redis, redis_prefix):
    source = _source()
    sha = hashlib.sha1(source.encode()).hexdigest()
    assert await redis.script_exists(sha) == [False]
    script = LuaScript(redis, source)
    assert await script(keys=[f"{redis_prefix}a"], args=["x", 7]) == [1, 2, f"{redis_prefix}a".encode(), b"x"]
    assert await redis.script_exists(sha) == [True]


async def test_a_loaded_script_runs_by_its_sha_every_time(redis, redis_prefix):
    script = LuaScript(redis, _source())
    for n in range(3):
        key = f"{redis_prefix}k{n}"
        assert await script(keys=[key], args=[n]) == [1, 1, key.encode(), str(n).encode()]


async def test_keys_without_args(redis, redis_prefix):
    script = LuaScript(redis, _source())
    # ARGV[1] is nil, which ends the Lua table: three values come back.
    assert await script(keys=(f"{redis_prefix}only",)) == [1, 0, f"{redis_prefix}only".encode()]
