"""GetOrder: one order, exactly as OrderDesk stores it, read through the cache.

A hit is served from the cache. A miss fetches upstream once per key however many callers
wait (single flight) and caches the order for ``ttl`` seconds, unless a write to the store
may have landed during the fetch: the fill is guarded by the order's write counter, which every
write of that order bumps (``invalidate_order``) before it deletes the order's entry.
"""

from __future__ import annotations

import anyio

from orderdesk_mcp.domain.cache_keys import order_key, order_version_key
from orderdesk_mcp.domain.cache_stats import CacheStats
from orderdesk_mcp.domain.cached_orders import order_from_cache, order_to_cache
from orderdesk_mcp.domain.commands import GetOrderCommand
from orderdesk_mcp.domain.context import record_cache
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.single_flight import SingleFlight
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.gateway import OrderGateway

__all__ = ["GetOrder"]


class GetOrder:
    def __init__(
        self,
        *,
        gateway: OrderGateway,
        cache: OrderCache,
        ttl: float,
        stats: CacheStats,
        flights: SingleFlight[Order] | None = None,
    ) -> None:
        self._gateway = gateway
        self._cache = cache
        self._ttl = ttl
        self._stats = stats
        self._flights: SingleFlight[Order] = flights if flights is not None else SingleFlight()

    async def __call__(self, cmd: GetOrderCommand) -> Order:
        """Return the order. Raises: OrderNotFound, and the gateway's upstream errors (never cached)."""
        key = order_key(cmd.store, cmd.order_id)
        cached = order_from_cache(await self._cache.get(key))
        record_cache("order", hit=cached is not None)
        if cached is not None:
            self._stats.hit(cmd.store)
            return cached
        self._stats.miss(cmd.store)
        generation = await self._cache.get_counter(order_version_key(cmd.store, cmd.order_id))
        if generation < 0:
            # Cache unusable: nothing guards a fill, and sharing a flight could hand this
            # caller data from before a write that finished before it asked.
            return await self._gateway.fetch(cmd.store, cmd.order_id)
        # The generation is part of the flight key: a caller arriving after a write never
        # joins a fetch that started before it.
        return await self._flights.run(
            f"{key}@{generation}", lambda: self._fill(cmd.store, cmd.order_id, key, generation)
        )

    async def _fill(self, store: StoreRef, order_id: str, key: str, generation: int) -> Order:
        order = await self._gateway.fetch(store, order_id)
        # Shielded (each cache op is itself time-bounded) so a cancelled caller cannot leave
        # a stored-but-unverified entry behind.
        with anyio.CancelScope(shield=True):
            await self._cache.set(key, order_to_cache(order), ttl=self._ttl)
            if await self._cache.get_counter(order_version_key(store, order_id)) != generation:
                # A write bumped the generation while we fetched, so what we stored may
                # predate it; its own delete may already have run before our set.
                await self._cache.delete(key)
        return order
