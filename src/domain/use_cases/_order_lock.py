"""The order's write lock, for the use cases that may be built without one (tests)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, nullcontext

from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.ports.write_lock import WriteLock

__all__ = ["hold_order"]


def hold_order(lock: WriteLock | None, store: StoreRef, order_id: str) -> AbstractAsyncContextManager[None]:
    """Hold ``order_id``'s lock (the resource every write of an order shares), or nothing without one."""
    return nullcontext() if lock is None else lock.hold(store, f"order:{order_id}")
