"""Cache keys: every key is scoped by tenant and store, so tenants never share an entry."""

from __future__ import annotations

import hashlib

from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.pagination import OrderQuery

__all__ = ["generation_key", "idempotency_key", "list_key", "order_key", "order_version_key", "store_scope"]


def store_scope(store: StoreRef) -> str:
    return f"tenant:{store.tenant}:store:{store.store_id}"


def order_key(store: StoreRef, order_id: str) -> str:
    return f"{store_scope(store)}:orders:{order_id}"


def order_version_key(store: StoreRef, order_id: str) -> str:
    """The order's write counter: every write bumps it, so a read that overlapped a write of
    *this* order never fills the cache (writes to other orders do not disturb it)."""
    return f"{store_scope(store)}:orders:{order_id}:v"


def generation_key(store: StoreRef) -> str:
    """The store's list generation: every write bumps it, retiring every cached list page."""
    return f"{store_scope(store)}:lists:gen"


def list_key(store: StoreRef, generation: int, query: OrderQuery) -> str:
    digest = hashlib.sha256(query.cache_identity().encode()).hexdigest()[:24]
    return f"{store_scope(store)}:lists:{generation}:{digest}"


def idempotency_key(store: StoreRef, key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{store_scope(store)}:idempotency:{digest}"
