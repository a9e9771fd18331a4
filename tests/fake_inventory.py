"""FakeInventoryGateway: inventory items in a dict, every PUT recorded, failures queued per method.

Each call yields to the event loop before and after touching the items, so two unserialized
read-modify-write calls interleave and one loses the other's write (what the lock prevents).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import anyio

from orderdesk_mcp.domain.errors import OrderDeskError
from orderdesk_mcp.domain.inventory import InventoryItem, InventoryPage, InventoryQuery
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.reach_errors import InventoryItemNotFound
from orderdesk_mcp.ports.inventory import InventoryGateway

__all__ = ["FakeInventoryGateway"]


class FakeInventoryGateway:
    def __init__(self, items: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.items: dict[str, dict[str, Any]] = {k: copy.deepcopy(dict(v)) for k, v in (items or {}).items()}
        self.puts: list[tuple[str, dict[str, Any]]] = []
        self.calls: dict[str, int] = {}
        self.failures: dict[str, list[OrderDeskError]] = {}

    def fail_next(self, method: str, *errors: OrderDeskError) -> None:
        self.failures.setdefault(method, []).extend(errors)

    async def _enter(self, method: str) -> None:
        self.calls[method] = self.calls.get(method, 0) + 1
        await anyio.lowlevel.checkpoint()
        queued = self.failures.get(method)
        if queued:
            raise queued.pop(0)

    async def inventory_page(self, store: StoreRef, query: InventoryQuery) -> InventoryPage:
        await self._enter("inventory_page")
        found = [
            d for _, d in sorted(self.items.items()) if query.code is None or d.get("code") == query.code
        ]
        window = found[query.offset : query.offset + query.limit]
        return InventoryPage(
            items=tuple(InventoryItem.from_document(copy.deepcopy(d)) for d in window),
            total_count=len(found),
            limit=query.limit,
            offset=query.offset,
        )

    async def fetch_item(self, store: StoreRef, item_id: str) -> InventoryItem:
        await self._enter("fetch_item")
        if item_id not in self.items:
            raise InventoryItemNotFound(item_id, store.store_id)
        return InventoryItem.from_document(copy.deepcopy(self.items[item_id]))

    async def replace_item(self, store: StoreRef, item_id: str, doc: Mapping[str, Any]) -> None:
        await self._enter("replace_item")
        if item_id not in self.items:
            raise InventoryItemNotFound(item_id, store.store_id)
        await anyio.lowlevel.checkpoint()
        self.items[item_id] = copy.deepcopy(dict(doc))
        self.puts.append((item_id, copy.deepcopy(dict(doc))))


_inventory: InventoryGateway = FakeInventoryGateway()
