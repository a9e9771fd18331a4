"""The invalidation step every mutation runs before it returns."""

from __future__ import annotations

from orderdesk_mcp.domain.cache_keys import generation_key, order_key, order_version_key
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.ports.cache import OrderCache

__all__ = ["invalidate_order"]


async def invalidate_order(cache: OrderCache, store: StoreRef, order_id: str | None) -> None:
    """Drop the order's entry and retire every cached list page of the store.

    Bumping the generation first means a concurrent reader can never re-fill a list page
    from before the write under the new generation.
    """
    await cache.incr(generation_key(store))
    if order_id is not None:
        await cache.incr(order_version_key(store, order_id))
        await cache.delete(order_key(store, order_id))
