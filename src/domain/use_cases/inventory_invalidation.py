"""The invalidation step every inventory write runs: the item's entry and every cached list page."""

from __future__ import annotations

from orderdesk_mcp.domain.inventory_cache_keys import (
    inventory_generation_key,
    inventory_item_key,
    inventory_version_key,
)
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.ports.cache import OrderCache

__all__ = ["invalidate_inventory"]


async def invalidate_inventory(cache: OrderCache, store: StoreRef, item_id: str) -> None:
    """Bump the store's inventory list generation and the item's write counter, drop the item."""
    await cache.incr(inventory_generation_key(store))
    await cache.incr(inventory_version_key(store, item_id))
    await cache.delete(inventory_item_key(store, item_id))
