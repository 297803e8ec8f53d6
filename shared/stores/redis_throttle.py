"""Failed-login counters per username and per client IP (OWASP Authentication Cheat Sheet).

Fixed windows: the first failure starts a counter that expires after the window. Keys hold
hashes, so Redis never lists usernames or addresses.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from shared.crypto.digests import sha256_hex


@dataclass(frozen=True, slots=True)
class LoginAttempts:
    blocked: bool
    user_failures: int  # failures recorded for this username in the current window


class RedisLoginThrottle:
    def __init__(self, redis: Redis, prefix: str, *, max_per_user: int, max_per_ip: int, window: int) -> None:
        self._redis = redis
        self._prefix = prefix
        self._max_user = max_per_user
        self._max_ip = max_per_ip
        self._window = window

    def _user_key(self, username: str) -> str:
        return f"{self._prefix}login-fail:user:{sha256_hex(username.casefold())}"

    def _ip_key(self, ip: str) -> str:
        return f"{self._prefix}login-fail:ip:{sha256_hex(ip)}"

    async def check(self, username: str, ip: str) -> LoginAttempts:
        """Blocked when either counter has reached its limit within the current window."""
        user_raw, ip_raw = await self._redis.mget(self._user_key(username), self._ip_key(ip))
        user_failures, ip_failures = int(user_raw or 0), int(ip_raw or 0)
        return LoginAttempts(user_failures >= self._max_user or ip_failures >= self._max_ip, user_failures)

    async def record_failure(self, username: str, ip: str) -> str | None:
        """Counts a failure; names the limit ("user" or "ip") this very failure reached, if any.

        Only the failure that trips a limit is worth an alarm; later blocked attempts are not.
        """
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in (self._user_key(username), self._ip_key(ip)):
                # SET NX EX starts the window on the first failure only (works on Redis 6.2).
                pipe.set(key, 0, ex=self._window, nx=True)
                pipe.incr(key)
            _, user_failures, _, ip_failures = await pipe.execute()
        if user_failures == self._max_user:
            return "user"
        return "ip" if ip_failures == self._max_ip else None

    async def clear_user(self, username: str) -> None:
        """A successful login forgets that user's failures; the IP counter keeps running."""
        await self._redis.delete(self._user_key(username))
