"""RedisRateLimiter: one token bucket per store shared by every process through Redis.

A Lua script takes a token atomically on Redis's own clock (``TIME``), so N replicas
together stay inside one store's OrderDesk limit; the cool-down after a 429 is shared too,
and never longer than ``MAX_RETRY_AFTER`` (120 s), whatever is stored. When Redis fails, the
limiter falls back to a conservative in-process bucket (burst 1, one request a second, per
process: N processes that each fell back to a full bucket would overrun OrderDesk together)
until Redis answers again, and says so once in the log: a cache outage never fails a call.
"""

from __future__ import annotations

import logging

import redis.asyncio
from redis.exceptions import RedisError

from orderdesk_mcp.adapters._lifespan import NoOpLifespan
from orderdesk_mcp.adapters.memory_rate_limiter import MemoryRateLimiter
from orderdesk_mcp.domain.errors import RateLimited
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.retry import MAX_RETRY_AFTER
from orderdesk_mcp.ports.clock import Clock

__all__ = ["RedisRateLimiter"]

log = logging.getLogger(__name__)

_MAX_COOL_MS = int(MAX_RETRY_AFTER * 1000)
FALLBACK_BURST = 1
FALLBACK_PER_SECOND = 1.0

# KEYS: bucket, cooldown. ARGV: burst, per_second, max cool-down ms. Returns ms to wait (0: taken).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2]) / 1000
local cool = tonumber(redis.call('GET', KEYS[2]) or '0')
if cool > now then return math.min(cool - now, tonumber(ARGV[3])) end
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate)
local ttl = math.ceil(burst / rate) + 1000
if tokens >= 1 then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', now)
  redis.call('PEXPIRE', KEYS[1], ttl)
  return 0
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], ttl)
return math.ceil((1 - tokens) / rate)
"""

# KEYS: bucket, cooldown. ARGV: tokens_remaining (or -1), retry_after_ms (or -1), burst, per_second,
# max cool-down ms (the stored cool-down never lies further ahead than that).
# The bucket is refilled up to now before the resync, so a late observe never loses refill.
_OBSERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local remaining = tonumber(ARGV[1])
local retry = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local rate = tonumber(ARGV[4]) / 1000
retry = math.min(retry, tonumber(ARGV[5]))
if remaining >= 0 then
  local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
  local tokens = tonumber(b[1]) or burst
  local at = tonumber(b[2]) or now
  tokens = math.min(burst, tokens + (now - at) * rate)
  redis.call('HSET', KEYS[1], 'tokens', tostring(math.min(tokens, remaining)), 'at', now)
  redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
end
if retry >= 0 then
  local stored = tonumber(redis.call('GET', KEYS[2]) or '0')
  local cool = math.min(math.max(stored, now + retry), now + tonumber(ARGV[5]))
  if cool ~= stored then redis.call('SET', KEYS[2], cool, 'PX', cool - now + 1000) end
end
return 0
"""


class RedisRateLimiter(NoOpLifespan):
    def __init__(
        self,
        *,
        client: redis.asyncio.Redis,
        burst: int = 20,
        per_second: float = 3.0,
        clock: Clock,
        prefix: str = "orderdesk:",
    ) -> None:
        self._client = client
        self._burst = burst
        self._rate = per_second
        self._clock = clock
        self._prefix = prefix
        # Conservative while Redis is away: every process falls back on its own, so a full
        # bucket each would add up to N times OrderDesk's limit.
        self._fallback = MemoryRateLimiter(
            burst=min(burst, FALLBACK_BURST), per_second=min(per_second, FALLBACK_PER_SECOND), clock=clock
        )
        self._acquire = client.register_script(_ACQUIRE)
        self._observe = client.register_script(_OBSERVE)
        self._falling_back = False

    def _degraded(self, exc: BaseException) -> None:
        # One warning per outage, not one per call: a dead Redis must not flood the log.
        if not self._falling_back:
            log.warning(
                "shared rate limiter unavailable (%s); using a conservative in-process bucket "
                "(burst %d, %g request a second) until Redis answers again",
                type(exc).__name__, min(self._burst, FALLBACK_BURST), min(self._rate, FALLBACK_PER_SECOND),
            )  # fmt: skip
        self._falling_back = True

    def _healthy(self) -> None:
        if self._falling_back:
            log.warning("shared rate limiter reachable again; back on the shared bucket")
        self._falling_back = False

    def _keys(self, store: StoreRef) -> list[str]:
        # By OrderDesk store id, not by tenant: the limit is the store's, whoever sends the request.
        base = f"{self._prefix}store:{store.store_id}"
        return [f"{base}:bucket", f"{base}:cooldown"]

    async def acquire(self, store: StoreRef, *, max_wait: float | None) -> None:
        """Take a shared token. Raises: RateLimited when none comes within ``max_wait``."""
        waited = 0.0
        while True:
            try:
                wait_ms = int(
                    await self._acquire(keys=self._keys(store), args=[self._burst, self._rate, _MAX_COOL_MS])
                )
            except (RedisError, OSError, TimeoutError) as exc:
                self._degraded(exc)
                await self._fallback.acquire(store, max_wait=None if max_wait is None else max_wait - waited)
                return
            self._healthy()
            if wait_ms <= 0:
                return
            wait = wait_ms / 1000
            if max_wait is not None and waited + wait > max_wait:
                raise RateLimited(store.store_id, round(wait, 1))
            await self._clock.sleep(wait)
            waited += wait

    async def observe(
        self, store: StoreRef, *, tokens_remaining: int | None = None, retry_after: float | None = None
    ) -> None:
        remaining = -1 if tokens_remaining is None else max(0, tokens_remaining)
        retry_ms = -1 if retry_after is None else min(_MAX_COOL_MS, max(0, int(retry_after * 1000)))
        try:
            await self._observe(
                keys=self._keys(store), args=[remaining, retry_ms, self._burst, self._rate, _MAX_COOL_MS]
            )
            self._healthy()
        except (RedisError, OSError, TimeoutError) as exc:
            self._degraded(exc)
            await self._fallback.observe(store, tokens_remaining=tokens_remaining, retry_after=retry_after)
