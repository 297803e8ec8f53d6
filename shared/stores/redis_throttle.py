"""Failed-login counters per username and per client IP (OWASP Authentication Cheat Sheet).

Fixed windows: the first attempt starts a counter that expires after the window. An attempt
reserves its place in both counters atomically BEFORE the password is hashed, so concurrent
attempts cannot all pass a check made before any of them was counted. A success gives its
place back; a failure keeps it. Keys hold hashes, so Redis never lists usernames or addresses.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from shared.crypto.digests import sha256_hex

# KEYS: user counter, IP counter. ARGV: window seconds, user limit, IP limit.
# Returns {user count, IP count, 1 if blocked}; a blocked attempt counts nothing.
_RESERVE = """
local user = tonumber(redis.call('GET', KEYS[1]) or '0')
local ip = tonumber(redis.call('GET', KEYS[2]) or '0')
if user >= tonumber(ARGV[2]) or ip >= tonumber(ARGV[3]) then
  return {user, ip, 1}
end
for i, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, ARGV[1]) end
end
return {user + 1, ip + 1, 0}
"""

# KEYS: user counter, IP counter. Forgets the user's failures; gives back the IP place
# (DECR keeps the TTL; a counter that already expired is not recreated without one).
_RELEASE = """
redis.call('DEL', KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return 0
"""


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    blocked: bool
    user_count: int  # attempts counted for this username in the current window, this one included
    ip_count: int  # the same for the client IP


class RedisLoginThrottle:
    def __init__(self, redis: Redis, prefix: str, *, max_per_user: int, max_per_ip: int, window: int) -> None:
        self._prefix = prefix
        self._max_user = max_per_user
        self._max_ip = max_per_ip
        self._window = window
        self._reserve = redis.register_script(_RESERVE)
        self._release = redis.register_script(_RELEASE)

    def _keys(self, username: str, ip: str) -> list[str]:
        return [f"{self._prefix}login-fail:user:{sha256_hex(username.casefold())}",
                f"{self._prefix}login-fail:ip:{sha256_hex(ip)}"]

    async def reserve(self, username: str, ip: str) -> LoginAttempt:
        """Counts this attempt unless either counter has reached its limit (then blocked)."""
        user, ip_count, blocked = await self._reserve(keys=self._keys(username, ip),
                                                      args=[self._window, self._max_user, self._max_ip])
        return LoginAttempt(bool(blocked), int(user), int(ip_count))

    def limit_reached(self, attempt: LoginAttempt) -> str | None:
        """Names the limit ("user" or "ip") a failed ``attempt`` used up, if any.

        Only the failure that uses up a limit is worth an alarm; later blocked attempts are not.
        """
        if attempt.user_count == self._max_user:
            return "user"
        return "ip" if attempt.ip_count == self._max_ip else None

    async def succeeded(self, username: str, ip: str) -> None:
        """A successful login forgets that user's failures and does not count against the IP."""
        await self._release(keys=self._keys(username, ip))
