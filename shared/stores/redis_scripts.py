"""The stores' Lua scripts, run by their SHA1 (EVALSHA) and loaded when the server lacks them.

redis-py's ``Script`` does the same, but on every call it first asks whether its client is a
Pipeline: an isinstance check against a typing Protocol, about a microsecond, on every code
exchange and every rate-limited request. The stores never run a script in a pipeline, so they
send EVALSHA themselves and hand over to the ``Script`` (SCRIPT LOAD, then EVALSHA again) only
when the server answers NOSCRIPT: after a restart, a failover to a replica, or SCRIPT FLUSH.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError
from redis.typing import EncodableT, KeyT


class LuaScript:
    def __init__(self, redis: Redis, source: str) -> None:
        self._redis = redis
        self._script = redis.register_script(source)  # its SHA1, and the loading on NOSCRIPT

    async def __call__(self, keys: Sequence[KeyT], args: Sequence[EncodableT] = ()) -> Any:
        try:
            return await self._redis.execute_command(  # type: ignore[no-untyped-call]
                "EVALSHA", self._script.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await self._script(keys=keys, args=args)
