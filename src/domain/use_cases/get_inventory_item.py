"""GetInventoryItem and ListInventory: inventory reads through the read-through cache.

Entries live under the tenant and store (``inventory_cache_keys``). An item's fill is guarded
by its write counter and a page's key carries the store's inventory generation, both bumped by
every inventory write (``Invalidations.after_inventory_write``), so a read overlapping a write
never caches what the write replaced. While a failed invalidation is being retried, this process
reads the item (or the pages) from OrderDesk instead.
"""

from __future__ import annotations

from typing import Any

import anyio

from orderdesk_mcp.domain.context import record_cache
from orderdesk_mcp.domain.inventory import InventoryItem, InventoryPage
from orderdesk_mcp.domain.inventory_cache_keys import (
    inventory_generation_key,
    inventory_item_key,
    inventory_list_key,
    inventory_version_key,
)
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.reach_commands import GetItemCommand, ListInventoryCommand
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.inventory import InventoryGateway

__all__ = ["GetInventoryItem", "ListInventory"]


def _to_cache(item: InventoryItem) -> dict[str, Any]:
    return {"doc": item.doc, "fingerprint": item.fingerprint}


def _from_cache(value: object) -> InventoryItem | None:
    if not isinstance(value, dict):
        return None
    doc, fingerprint = value.get("doc"), value.get("fingerprint")
    if not isinstance(doc, dict) or not isinstance(fingerprint, str):
        return None
    return InventoryItem.from_cached(doc, fingerprint)


def _page_from_cache(value: object) -> InventoryPage | None:
    if not isinstance(value, dict) or not isinstance(value.get("items"), list):
        return None
    items = [_from_cache(v) for v in value["items"]]
    total, limit, offset = value.get("total_count"), value.get("limit"), value.get("offset")
    if any(i is None for i in items) or not all(isinstance(n, int) for n in (total, limit, offset)):
        return None
    return InventoryPage(
        items=tuple(i for i in items if i is not None), total_count=int(str(total)), limit=int(str(limit)),
        offset=int(str(offset)),
    )  # fmt: skip


class _InventoryRead:
    """What both inventory reads hold: the gateway, the cache and its TTL, the pending invalidations."""

    def __init__(
        self,
        *,
        inventory: InventoryGateway,
        cache: OrderCache,
        ttl: float,
        invalidations: Invalidations | None = None,
    ) -> None:
        self._inventory = inventory
        self._cache = cache
        self._ttl = ttl
        self._invalidations = invalidations

    def _bypassing(self, store: StoreRef, item_id: str | None = None) -> bool:
        """Whether a failed invalidation of the item (None: of the pages) is still being retried."""
        return self._invalidations is not None and self._invalidations.bypassing_inventory(store, item_id)


class GetInventoryItem(_InventoryRead):
    async def __call__(self, cmd: GetItemCommand) -> InventoryItem:
        """Raises: InventoryItemNotFound, and the gateway's upstream errors (never cached)."""
        if self._bypassing(cmd.store, cmd.item_id):
            record_cache("inventory", hit=False)
            return await self._inventory.fetch_item(cmd.store, cmd.item_id)
        key = inventory_item_key(cmd.store, cmd.item_id)
        cached = _from_cache(await self._cache.get(key))
        record_cache("inventory", hit=cached is not None)
        if cached is not None:
            return cached
        version_key = inventory_version_key(cmd.store, cmd.item_id)
        generation = await self._cache.get_counter(version_key)
        item = await self._inventory.fetch_item(cmd.store, cmd.item_id)
        if generation >= 0:
            with anyio.CancelScope(shield=True):
                await self._cache.set(key, _to_cache(item), ttl=self._ttl)
                if await self._cache.get_counter(version_key) != generation:
                    # A write overlapped this read, or the check failed: remove it, reliably.
                    if self._invalidations is not None:
                        await self._invalidations.discard_inventory_item(cmd.store, cmd.item_id)
                    else:
                        await self._cache.delete(key)
        return item


class ListInventory(_InventoryRead):
    async def __call__(self, cmd: ListInventoryCommand) -> InventoryPage:
        """Raises: the gateway's upstream errors (never cached)."""
        if self._bypassing(cmd.store):
            generation = -1  # an inventory write's invalidation is still being retried: trust no page
        else:
            generation = await self._cache.get_counter(inventory_generation_key(cmd.store))
        key = inventory_list_key(cmd.store, generation, cmd.query)
        cached = _page_from_cache(await self._cache.get(key)) if generation >= 0 else None
        record_cache("inventory_list", hit=cached is not None)
        if cached is not None:
            return cached
        page = await self._inventory.inventory_page(cmd.store, cmd.query)
        if generation >= 0:
            value = {"items": [_to_cache(i) for i in page.items], "total_count": page.total_count,
                     "limit": page.limit, "offset": page.offset}  # fmt: skip
            await self._cache.set(key, value, ttl=self._ttl)
        return page
