"""Rate limits in Redis: one GCRA token bucket per subject, checked atomically in one script.

GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp per key): a limit of
N per period lets a burst of N through, then one request every period/N. Each key holds its
"theoretical arrival time" (TAT) in milliseconds of the Redis server's clock, so replicas whose
clocks differ still agree. One EVALSHA per request checks every bucket that applies (client,
address, and the failed-authentication buckets, read-only) and, only when all admit, charges
the charged ones: a refused request costs nothing, so a limited caller is let in again as soon
as the answer's Retry-After says. Requests that arrive together share that call (``admit_many``,
decided in arrival order). Recording a failure is one more script call, on the failure path
only; it answers how long each bucket now refuses, which shared.web.rate_limits remembers so that
a request with no request limit to charge needs no call at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from shared.stores.redis_scripts import LuaScript

# Many requests' admissions in one call, decided in order as if each came alone. KEYS: every
# request's buckets, one request after another. ARGV[1]: how many requests; then per request its
# bucket count followed by, per bucket, (emission interval ms, burst tolerance ms, charge 0/1).
# Returns per request 0 when admitted (its charged buckets charged), else the milliseconds until
# it would be (and nothing charged).
_ADMIT = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local waits = {}
local k, a = 0, 2
for r = 1, tonumber(ARGV[1]) do
  local count = tonumber(ARGV[a])
  a = a + 1
  local wait = 0
  local tats = {}
  for j = 1, count do
    local interval = tonumber(ARGV[a + 3 * j - 3])
    local tolerance = tonumber(ARGV[a + 3 * j - 2])
    local tat = math.max(tonumber(redis.call('GET', KEYS[k + j]) or 0), now)
    tats[j] = tat
    local allow_at = tat + interval - tolerance
    if allow_at > now then wait = math.max(wait, allow_at - now) end
  end
  if wait == 0 then
    for j = 1, count do
      if ARGV[a + 3 * j - 1] == '1' then
        local tat = tats[j] + tonumber(ARGV[a + 3 * j - 3])
        redis.call('SET', KEYS[k + j], tat, 'PX', tat - now + 1000)
      end
    end
  end
  waits[r] = wait
  k = k + count
  a = a + 3 * count
end
return waits
"""

# Charges every bucket unconditionally (a failure has happened, whatever the limit says), capped
# at one period ahead so a flood cannot lock a subject out for longer than the window. Returns per
# bucket three numbers: 1 when this charge pushed it over its limit (for the audit trail) else 0,
# the milliseconds until it admits again (0: it does now), and the milliseconds until it has
# refilled (no failure on record any more).
_CHARGE = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local tolerance = tonumber(ARGV[2 * i])
  local before = math.max(tonumber(redis.call('GET', key) or 0), now)
  local tat = math.min(before + interval, now + tolerance + interval)
  redis.call('SET', key, tat, 'PX', tat - now + 1000)
  local crossed = 0
  if before + interval - tolerance <= now and tat + interval - tolerance > now then crossed = 1 end
  out[3 * i - 2] = crossed
  out[3 * i - 1] = math.max(0, tat + interval - tolerance - now)
  out[3 * i] = tat - now
end
return out
"""


@dataclass(frozen=True, slots=True)
class Bucket:
    """``limit`` requests per ``period`` seconds for one subject (a Redis key)."""

    key: str
    limit: int
    period: int
    charge: bool = True

    def args(self) -> tuple[int, int]:
        interval = max(1, round(self.period * 1000 / self.limit))  # ms: limits above 1000/s act as 1000/s
        return interval, self.period * 1000


@dataclass(frozen=True, slots=True)
class Charged:
    bucket: Bucket
    crossed: bool  # this charge pushed it over its limit
    refusing_for: float  # seconds until it admits again (0: it does now)
    on_record_for: float  # seconds until it has refilled: no failure on record any more


class RedisRateLimits:
    """The buckets of one Redis; keys are ``{prefix}rl:{name}``."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._prefix = f"{prefix}rl:"
        self._admit = LuaScript(redis, _ADMIT)
        self._charge = LuaScript(redis, _CHARGE)

    def key(self, name: str) -> str:
        return self._prefix + name

    async def admit_many(self, requests: Sequence[Sequence[Bucket]]) -> list[float]:
        """Per request, 0 when every one of its buckets admits (the charged ones are then charged),
        else seconds to wait; in one script call, each decided after the ones before it."""
        keys: list[str] = []
        args: list[int] = [len(requests)]
        for buckets in requests:
            args.append(len(buckets))
            for bucket in buckets:
                keys.append(bucket.key)
                args.extend((*bucket.args(), int(bucket.charge)))
        if not keys:
            return [0.0] * len(requests)
        waits = await self._admit(keys=keys, args=args)
        return [int(wait_ms) / 1000 for wait_ms in waits]

    async def charge(self, buckets: Sequence[Bucket]) -> list[Charged]:
        """Charges every bucket; per bucket, whether this charge pushed it over its limit, how
        long it now refuses and how long its failures stay on record."""
        if not buckets:
            return []
        args: list[int] = []
        for bucket in buckets:
            args.extend(bucket.args())
        out = await self._charge(keys=[b.key for b in buckets], args=args)
        return [Charged(bucket, bool(int(out[3 * i])), int(out[3 * i + 1]) / 1000, int(out[3 * i + 2]) / 1000)
                for i, bucket in enumerate(buckets)]
