"""The inventory port: a store's inventory items (``/inventory-items``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from orderdesk_mcp.domain.inventory import InventoryItem, InventoryPage, InventoryQuery
from orderdesk_mcp.domain.order import StoreRef

__all__ = ["InventoryGateway"]


class InventoryGateway(Protocol):
    """Every method may also raise ``AuthenticationFailed``, ``CredentialsMissing``,
    ``RateLimited``, ``UpstreamUnavailable`` and ``UpstreamRejected``."""

    async def inventory_page(self, store: StoreRef, query: InventoryQuery) -> InventoryPage:
        """One page of items (past the end: an empty page)."""
        ...

    async def fetch_item(self, store: StoreRef, item_id: str) -> InventoryItem:
        """The full item. Raises: InventoryItemNotFound."""
        ...

    async def replace_item(self, store: StoreRef, item_id: str, doc: Mapping[str, Any]) -> None:
        """PUT the whole item (fields left out are blanked); the answer carries no item.

        Raises: InventoryItemNotFound.
        """
        ...
