"""Domain results → the tools' output TypedDicts (plain builtins, nothing else)."""

from __future__ import annotations

from typing import Any

import msgspec

from orderdesk_mcp.domain.order import Order
from orderdesk_mcp.domain.pagination import OrderPage
from orderdesk_mcp.domain.results import CreatedOrder, DeletedOrder, UpdatedOrder
from orderdesk_mcp.entrypoints.mcp_schemas import (
    CreateOrderOut,
    DeleteOrderOut,
    FieldChangeOut,
    GetOrderOut,
    ListOrdersOut,
    UpdateOrderOut,
)

__all__ = ["create_out", "delete_out", "get_out", "list_out", "update_out"]


def _doc(order: Order) -> dict[str, Any]:
    return order.doc


def get_out(order: Order) -> GetOrderOut:
    return {"order": _doc(order), "fingerprint": order.fingerprint}


def list_out(page: OrderPage) -> ListOrdersOut:
    return {
        "orders": [_doc(o) for o in page.orders],
        "fingerprints": {o.id: o.fingerprint for o in page.orders},
        "total_count": page.total_count,
        "limit": page.limit,
        "offset": page.offset,
        "has_more": page.has_more,
    }


def update_out(result: UpdatedOrder) -> UpdateOrderOut:
    diff: list[FieldChangeOut] = [
        {"field": c.field, "before": msgspec.to_builtins(c.before), "after": msgspec.to_builtins(c.after)}
        for c in result.diff
    ]
    return {
        "order": _doc(result.order),
        "fingerprint": result.order.fingerprint,
        "changed_fields": list(result.changed_fields),
        "attempts": result.attempts,
        "dry_run": result.dry_run,
        "diff": diff,
    }


def create_out(result: CreatedOrder) -> CreateOrderOut:
    return {"order": _doc(result.order), "fingerprint": result.order.fingerprint, "created": result.created}


def delete_out(result: DeletedOrder) -> DeleteOrderOut:
    return {"deleted": True, "order_id": result.order_id}
