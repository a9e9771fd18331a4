"""GetOrder: one order, exactly as OrderDesk stores it, read through the cache.

A hit is served from the cache. A miss fetches upstream once per key however many callers
wait (single flight) and caches the order for ``ttl`` seconds, unless a write to the store
may have landed during the fetch: the fill is guarded by the order's write counter, which every
write of that order bumps (``invalidate_order``) before it deletes the order's entry.

:func:`fill_from_page` applies the same rule to the orders a list page returned (their full
documents arrive with the page anyway), so a get after a list is a hit. While an
invalidation of the order is still being retried (``Invalidations``), this process reads it
upstream and fills nothing.
"""

from __future__ import annotations

import anyio

from orderdesk_mcp.domain.cache_keys import generation_key, order_key, order_version_key
from orderdesk_mcp.domain.cache_stats import CacheStats
from orderdesk_mcp.domain.cached_orders import order_from_cache, order_to_cache
from orderdesk_mcp.domain.commands import GetOrderCommand
from orderdesk_mcp.domain.context import record_cache
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.pagination import OrderPage
from orderdesk_mcp.domain.single_flight import SingleFlight
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.gateway import OrderGateway

__all__ = ["GetOrder", "fill_from_page"]


class GetOrder:
    def __init__(
        self,
        *,
        gateway: OrderGateway,
        cache: OrderCache,
        ttl: float,
        stats: CacheStats,
        flights: SingleFlight[Order] | None = None,
        invalidations: Invalidations | None = None,
    ) -> None:
        self._gateway = gateway
        self._cache = cache
        self._ttl = ttl
        self._stats = stats
        self._flights: SingleFlight[Order] = flights if flights is not None else SingleFlight()
        self._invalidations = invalidations

    async def __call__(self, cmd: GetOrderCommand) -> Order:
        """Return the order. Raises: OrderNotFound, and the gateway's upstream errors (never cached)."""
        if self._invalidations is not None and self._invalidations.bypassing(cmd.store, cmd.order_id):
            record_cache("order", hit=False)
            self._stats.miss(cmd.store)
            return await self._gateway.fetch(cmd.store, cmd.order_id)
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
                # A write bumped the generation while we fetched (or the check failed), so what
                # we stored may predate it; its own delete may already have run before our set.
                await _discard(self._cache, self._invalidations, store, [order_id])
        return order


async def _discard(
    cache: OrderCache, invalidations: Invalidations | None, store: StoreRef, order_ids: list[str]
) -> None:
    """Remove fills that cannot be kept: reliably through ``invalidations`` (a failed removal is
    retried), else with a plain delete."""
    if invalidations is not None:
        await invalidations.discard(store, order_ids)
    else:
        await cache.delete(*(order_key(store, order_id) for order_id in order_ids))


async def fill_from_page(
    cache: OrderCache,
    store: StoreRef,
    page: OrderPage,
    *,
    ttl: float,
    generation: int,
    invalidations: Invalidations | None = None,
) -> None:
    """Cache each order of ``page`` (fetched under the store's list ``generation``) as a get would.

    Nothing is filled if the generation moved during the fetch (some write landed, or the
    cache is unreachable). Otherwise the orders' write counters are read, the entries stored,
    and the counters read again, each in one round trip; an entry whose counter moved in
    between (or could not be read) is removed, exactly as a get fill does.
    """
    orders = [o for o in page.orders if o.id]
    if ttl <= 0 or not orders or generation < 0:
        return
    versions = [order_version_key(store, o.id) for o in orders]
    before = await cache.get_counters([generation_key(store), *versions])
    if before[0] != generation:
        return
    with anyio.CancelScope(shield=True):  # never leave a stored-but-unverified entry behind
        await cache.set_many({order_key(store, o.id): order_to_cache(o) for o in orders}, ttl=ttl)
        after = await cache.get_counters(versions)
        moved = [o.id for o, b, a in zip(orders, before[1:], after, strict=True) if a != b]
        if moved:
            await _discard(cache, invalidations, store, moved)
