"""OrderDesk's wire format for shipments, folder moves, history notes and inventory.

Shared by the HTTP client and the in-process simulator gateway, after ``check_answer``:
decoding the answers leniently (inventory ``total_records`` is a string; inventory ids are
integers), and telling a missing shipment or item from a missing order on a 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orderdesk_mcp.domain.errors import OrderNotFound, UpstreamRejected, UpstreamUnavailable
from orderdesk_mcp.domain.inventory import InventoryItem, InventoryPage, InventoryQuery
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.reach_errors import DuplicateShipment, InventoryItemNotFound, ShipmentNotFound
from orderdesk_mcp.domain.reach_results import MoveReport
from orderdesk_mcp.domain.shipment import Shipment

__all__ = [
    "DUPLICATE_SHIPMENT",
    "inventory_item_of",
    "inventory_page_of",
    "inventory_params",
    "map_rejection",
    "maybe_applied",
    "move_body",
    "move_reports",
    "shipments_of",
]

DUPLICATE_SHIPMENT = "Shipment Not Added"


def map_rejection(
    exc: UpstreamRejected,
    store: StoreRef,
    *,
    order_id: str | None = None,
    shipment_id: str | None = None,
    item_id: str | None = None,
) -> Exception:
    """The domain error an ``UpstreamRejected`` really means here (or ``exc`` itself).

    A 404 names the order when OrderDesk says so, else the shipment or item asked for; the
    "Shipment Not Added" error body is a duplicate shipment.
    """
    text = exc.upstream_message.casefold()
    if exc.status == 404:
        if order_id is not None and "order" in text and (shipment_id is None or "shipment" not in text):
            return OrderNotFound(order_id, store.store_id)
        if shipment_id is not None and order_id is not None:
            return ShipmentNotFound(order_id, shipment_id)
        if item_id is not None:
            return InventoryItemNotFound(item_id, store.store_id)
    if order_id is not None and exc.upstream_message == DUPLICATE_SHIPMENT:
        return DuplicateShipment(order_id)
    return exc


def maybe_applied(exc: UpstreamUnavailable) -> UpstreamUnavailable:
    """A server error answering a non-repeatable POST: it may have been applied, so never re-send it.

    (A connection that never opened stays safe to retry.)
    """
    if exc.maybe_sent or not exc.reason.startswith("HTTP "):
        return exc
    return UpstreamUnavailable(exc.reason, retry_after=exc.retry_after, maybe_sent=True)


def shipments_of(body: dict[str, Any]) -> tuple[Shipment, ...]:
    raw = body.get("shipments")
    if not isinstance(raw, list):
        raise UpstreamUnavailable("the answer had no list of shipments in it")
    return tuple(Shipment.from_document(s) for s in raw if isinstance(s, dict))


def move_body(order_ids: Sequence[str], folder_id: int) -> dict[str, Any]:
    """``POST /move-orders``: integer ids and the destination by id (names must match exactly)."""
    return {"order_id_list": [int(i) for i in order_ids], "destination_folder_id": folder_id}


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def move_reports(body: dict[str, Any]) -> tuple[MoveReport, ...]:
    """One report per ``results`` entry; an entry is a success only when it says the order moved."""
    raw = body.get("results")
    if not isinstance(raw, list):
        raise UpstreamUnavailable("the move answer had no per-order results in it")
    reports = []
    for entry in raw:
        if not isinstance(entry, dict) or _int(entry.get("order_id")) is None:
            continue
        message = str(entry.get("message") or "")
        moved = entry.get("status", "success") == "success" and message.casefold().startswith("order moved")
        reports.append(
            MoveReport(
                order_id=str(_int(entry.get("order_id"))),
                moved=moved,
                message=message,
                original_folder_id=_int(entry.get("original_folder_id")),
            )
        )
    return tuple(reports)


def inventory_params(query: InventoryQuery) -> dict[str, str]:
    params = {"limit": str(query.limit), "offset": str(query.offset)}
    if query.code is not None:
        params["code"] = query.code
    if query.search is not None:
        params["search"] = query.search
    return params


def _item(raw: object) -> InventoryItem:
    if not isinstance(raw, dict) or _int(raw.get("id")) is None:
        raise UpstreamUnavailable("the answer had no inventory item with an id in it")
    return InventoryItem.from_document(raw)


def inventory_item_of(body: dict[str, Any], item_id: str) -> InventoryItem:
    item = _item(body.get("inventory_item"))
    if item.id != item_id:
        raise UpstreamUnavailable(f"the answer was about inventory item {item.id[:20]}, not {item_id}")
    return item


def inventory_page_of(body: dict[str, Any], query: InventoryQuery) -> InventoryPage:
    raw = body.get("inventory_items")
    if not isinstance(raw, list):
        raise UpstreamUnavailable("the answer had no list of inventory items in it")
    items = tuple(_item(i) for i in raw)
    total = _int(body.get("total_records", len(items)))  # a string in OrderDesk's answer
    if total is None or total < 0:
        raise UpstreamUnavailable("the answer's total_records is not a number")
    # Returned items exist, so the total is at least where they end. An empty page is past the
    # end: the total is OrderDesk's own count (never the offset asked for, which counts nothing),
    # and no more than the offset, so has_more cannot send the caller back to the same empty page.
    total = max(total, query.offset + len(items)) if items else min(total, query.offset)
    return InventoryPage(items=items, total_count=total, limit=query.limit, offset=query.offset)
