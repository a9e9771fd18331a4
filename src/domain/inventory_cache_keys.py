"""Cache keys of inventory reads, beside ``cache_keys``: scoped by tenant and store like orders."""

from __future__ import annotations

import hashlib

from orderdesk_mcp.domain.cache_keys import store_scope
from orderdesk_mcp.domain.inventory import InventoryQuery
from orderdesk_mcp.domain.order import StoreRef

__all__ = ["inventory_generation_key", "inventory_item_key", "inventory_list_key", "inventory_version_key"]


def inventory_item_key(store: StoreRef, item_id: str) -> str:
    return f"{store_scope(store)}:inventory:{item_id}"


def inventory_version_key(store: StoreRef, item_id: str) -> str:
    """The item's write counter: a read that overlapped a write of this item never fills the cache."""
    return f"{store_scope(store)}:inventory:{item_id}:v"


def inventory_generation_key(store: StoreRef) -> str:
    """The store's inventory list generation: every inventory write retires every cached page."""
    return f"{store_scope(store)}:inventory-lists:gen"


def inventory_list_key(store: StoreRef, generation: int, query: InventoryQuery) -> str:
    digest = hashlib.sha256(query.cache_identity().encode()).hexdigest()[:24]
    return f"{store_scope(store)}:inventory-lists:{generation}:{digest}"
