"""How orders and pages look in the cache: plain JSON-compatible builtins.

An order is ``{"doc": ..., "fingerprint": ...}`` so a hit rebuilds it without hashing the
document again; a page adds its paging facts. Anything else read back (another version's
layout, a stray value) is treated as a miss, never as an error.
"""

from __future__ import annotations

from typing import Any

from orderdesk_mcp.domain.order import Order
from orderdesk_mcp.domain.pagination import OrderPage

__all__ = ["order_from_cache", "order_to_cache", "page_from_cache", "page_to_cache"]


def order_to_cache(order: Order) -> dict[str, Any]:
    return {"doc": order.doc, "fingerprint": order.fingerprint}


def order_from_cache(value: object) -> Order | None:
    if not isinstance(value, dict):
        return None
    doc, fingerprint = value.get("doc"), value.get("fingerprint")
    if not isinstance(doc, dict) or not isinstance(fingerprint, str):
        return None
    return Order.from_cached(doc, fingerprint)


def page_to_cache(page: OrderPage) -> dict[str, Any]:
    return {
        "orders": [order_to_cache(order) for order in page.orders],
        "total_count": page.total_count,
        "limit": page.limit,
        "offset": page.offset,
    }


def page_from_cache(value: object) -> OrderPage | None:
    if not isinstance(value, dict):
        return None
    items, total, limit, offset = (value.get(k) for k in ("orders", "total_count", "limit", "offset"))
    if not (isinstance(items, list) and isinstance(total, int)):
        return None
    if not (isinstance(limit, int) and isinstance(offset, int)):
        return None
    orders: list[Order] = []
    for item in items:
        order = order_from_cache(item)
        if order is None:
            return None
        orders.append(order)
    return OrderPage(orders=tuple(orders), total_count=total, limit=limit, offset=offset)
