"""MemoryRateLimiter: one process's token bucket per store, shaped like OrderDesk's own."""

from __future__ import annotations

import msgspec

from orderdesk_mcp.adapters._lifespan import NoOpLifespan
from orderdesk_mcp.domain.errors import RateLimited
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.retry import MAX_RETRY_AFTER
from orderdesk_mcp.ports.clock import Clock

__all__ = ["MemoryRateLimiter"]

# Refill is computed from float clock differences, so a full token can come out as 0.9999999999991;
# without this slack the wait for the missing 1e-12 token rounds to no time at all and never ends.
_EPSILON = 1e-9


class _Bucket(msgspec.Struct):
    tokens: float
    at: float
    cool_until: float = 0.0


class MemoryRateLimiter(NoOpLifespan):
    """Burst ``burst``, refill ``per_second``; resynchronised down from ``X-Tokens-Remaining``
    and held back by a cool-down after a 429 that every caller in the process respects."""

    def __init__(self, *, burst: int = 20, per_second: float = 3.0, clock: Clock) -> None:
        self._burst = burst
        self._rate = per_second
        self._clock = clock
        # No lock: every read-modify-write of a bucket below runs without an await, so no other
        # task can come between its read and its write. (An anyio.Lock here yielded to the event
        # loop on every uncontended acquire: two loop passes per upstream request.)
        # By OrderDesk store id, not by tenant: OrderDesk's limit is the store's, whichever of the
        # tenants configured on it sends the request.
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, store: StoreRef) -> _Bucket:
        now = self._clock.monotonic()
        bucket = self._buckets.get(store.store_id)
        if bucket is None:
            bucket = self._buckets[store.store_id] = _Bucket(float(self._burst), now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        return bucket

    def _wait_for(self, bucket: _Bucket) -> float:
        now = self._clock.monotonic()
        cool = min(MAX_RETRY_AFTER, max(0.0, bucket.cool_until - now))
        refill = 0.0 if bucket.tokens >= 1 - _EPSILON else (1 - bucket.tokens) / self._rate
        return max(cool, refill)

    async def acquire(self, store: StoreRef, *, max_wait: float | None) -> None:
        """Take a token. Raises: RateLimited when none comes within ``max_wait`` seconds."""
        waited = 0.0
        while True:
            bucket = self._bucket(store)
            wait = self._wait_for(bucket)
            if wait <= 0:
                bucket.tokens -= 1
                return
            if max_wait is not None and waited + wait > max_wait:
                raise RateLimited(store.store_id, round(wait, 1))
            await self._clock.sleep(wait)
            waited += wait

    async def observe(
        self, store: StoreRef, *, tokens_remaining: int | None = None, retry_after: float | None = None
    ) -> None:
        bucket = self._bucket(store)
        if tokens_remaining is not None:
            bucket.tokens = min(bucket.tokens, float(tokens_remaining))
        if retry_after is not None:  # capped: one wild header must not lock the store out
            cool = min(MAX_RETRY_AFTER, max(0.0, retry_after))
            bucket.cool_until = max(bucket.cool_until, self._clock.monotonic() + cool)
