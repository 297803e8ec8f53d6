"""Login throttling per username and per client IP that stops guessing, not signing in.

OWASP Authentication Cheat Sheet ("Login Throttling"). Three Redis keys per attempt, all named
by hashes so Redis never lists usernames or addresses:

- **Per username, reserved before hashing.** An attempt takes a place in the username's counter
  BEFORE its password is hashed, atomically with the check, so concurrent guesses on one account
  cannot all pass a check made before any of them was counted: at most the limit are ever
  checked. A success forgets the username's failures; a failure keeps its place.
- **Per IP, completed failures only.** The IP's counter is checked before hashing but grows only
  after a password proved wrong. Correct logins never touch it, so any number of people behind
  one address (an office NAT, a gateway not named in LATCHKEY_TRUSTED_PROXIES) sign in together,
  and a success never lowers it: an attacker's own account cannot buy back guesses.
- **Per IP, attempts in flight.** Counting failures only after the fact lets attempts that pass
  the check together all be checked: one IP guessing many usernames in parallel could get
  ``max_ip - 1 + C`` passwords checked for C attempts in flight. A separate, generous cap on
  attempts in flight per IP bounds C, so one IP gets at most ``max_ip - 1 + max_in_flight``
  checked in a window, and only once: after that the failure counter refuses everything.
  In-flight entries are leases in a sorted set scored by their expiry, so an attempt whose
  process died frees its place by itself after ``IN_FLIGHT_LEASE_SECONDS``.

Counters use fixed windows: the first counted failure starts one that expires after the window.
A refused attempt is counted nowhere and says how long until the limit that refused it lifts.
"""

from __future__ import annotations

import contextlib
import math
import secrets
from dataclasses import dataclass
from typing import Literal, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.crypto.digests import sha256_hex
from shared.stores.redis_scripts import LuaScript

Limit = Literal["user", "ip", "in_flight"]

# Far longer than a login takes (one argon2 run plus a query): an entry this old belongs to an
# attempt that will never report back (its process died), so it stops holding a place.
IN_FLIGHT_LEASE_SECONDS = 60
# A place in flight frees up as soon as any attempt from the address finishes.
IN_FLIGHT_RETRY_SECONDS = 1

# KEYS: user counter, IP failures, IP in-flight set. ARGV: window s, user limit, IP limit,
# in-flight limit, lease ms, attempt id. Returns {refusing limit or '', wait ms, user count}.
_BEGIN = """
local user = tonumber(redis.call('GET', KEYS[1]) or '0')
local ip = tonumber(redis.call('GET', KEYS[2]) or '0')
local wait, limit = 0, ''
if user >= tonumber(ARGV[2]) then limit, wait = 'user', redis.call('PTTL', KEYS[1]) end
if ip >= tonumber(ARGV[3]) then
  local ip_wait = redis.call('PTTL', KEYS[2])
  if ip_wait > wait then limit, wait = 'ip', ip_wait end
end
if limit ~= '' then return {limit, wait, user} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[4]) then return {'in_flight', 0, user} end
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[5]), ARGV[6])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
if redis.call('INCR', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {'', 0, user + 1}
"""

# KEYS: user counter, IP failures, IP in-flight set. ARGV: window s, attempt id.
# The user's place stays taken; the IP's failure is counted. Returns the IP's failure count.
_FAILED = """
redis.call('ZREM', KEYS[3], ARGV[2])
local ip = redis.call('INCR', KEYS[2])
if ip == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
return ip
"""

# KEYS: user counter, IP in-flight set. ARGV: attempt id. Forgets the user's failures; the IP's
# failures stay as they are, whoever succeeds.
_SUCCEEDED = """
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 0
"""

# KEYS: user counter, IP in-flight set. ARGV: attempt id. An attempt that got no answer (a store
# fault) told nobody anything: it gives its places back (DECR keeps the TTL; an expired counter
# is not recreated without one).
_ABANDONED = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
redis.call('ZREM', KEYS[2], ARGV[1])
return 0
"""


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    user_key: str
    ip_key: str
    in_flight_key: str
    id: str  # this attempt's lease in the in-flight set
    refused: Limit | None  # the limit that refused it; None: go on and check the password
    retry_after: int  # seconds until that limit lifts (0 when not refused)
    user_count: int  # places taken for this username in the window, this one included


class RedisLoginThrottle:
    def __init__(self, redis: Redis, prefix: str, *, max_per_user: int, max_per_ip: int, max_in_flight_per_ip: int,
                 window: int) -> None:
        self._prefix = prefix
        self._max_user = max_per_user
        self._max_ip = max_per_ip
        self._max_in_flight = max_in_flight_per_ip
        self._window = window
        self._begin = LuaScript(redis, _BEGIN)
        self._failed = LuaScript(redis, _FAILED)
        self._succeeded = LuaScript(redis, _SUCCEEDED)
        self._abandoned = LuaScript(redis, _ABANDONED)

    async def begin(self, username: str, ip: str) -> LoginAttempt:
        """Takes this attempt's places before its password is hashed, unless a limit refuses it."""
        ip_hash = sha256_hex(ip)
        keys = (f"{self._prefix}login-fail:user:{sha256_hex(username.casefold())}",
                f"{self._prefix}login-fail:ip:{ip_hash}", f"{self._prefix}login-in-flight:ip:{ip_hash}")
        attempt_id = secrets.token_hex(8)
        refused, wait_ms, user_count = await self._begin(
            keys=keys, args=[self._window, self._max_user, self._max_ip, self._max_in_flight,
                             IN_FLIGHT_LEASE_SECONDS * 1000, attempt_id])
        limit = refused.decode() if isinstance(refused, bytes) else refused
        # _BEGIN answers one of the Limit names, or false when nothing refused the attempt.
        return LoginAttempt(*keys, attempt_id, refused=cast("Limit | None", limit or None),
                            retry_after=_retry_after(limit, int(wait_ms), self._window), user_count=int(user_count))

    async def failed(self, attempt: LoginAttempt) -> Limit | None:
        """Counts a wrong password; names the limit this failure used up, if any.

        Only the failure that uses up a limit is worth an alarm; later refused attempts are not.
        """
        ip_count = await self._failed(keys=[attempt.user_key, attempt.ip_key, attempt.in_flight_key],
                                      args=[self._window, attempt.id])
        if attempt.user_count == self._max_user:
            return "user"
        return "ip" if int(ip_count) == self._max_ip else None

    async def succeeded(self, attempt: LoginAttempt) -> None:
        """A successful login forgets that user's failures and counts nothing against the IP."""
        await self._succeeded(keys=[attempt.user_key, attempt.in_flight_key], args=[attempt.id])

    async def abandoned(self, attempt: LoginAttempt) -> None:
        """Gives back the places of an attempt that got no answer; never raises.

        Called while another error propagates: if Redis is down too, the lease expires by itself.
        """
        with contextlib.suppress(RedisError, OSError):
            await self._abandoned(keys=[attempt.user_key, attempt.in_flight_key], args=[attempt.id])


def _retry_after(limit: str, wait_ms: int, window: int) -> int:
    if not limit:
        return 0
    if limit == "in_flight":
        return IN_FLIGHT_RETRY_SECONDS
    # PTTL is -1 only for a counter without an expiry, which we never write: assume a full window.
    return max(1, math.ceil(wait_ms / 1000)) if wait_ms > 0 else window
