"""Shipments, folder moves and history notes of one simulated store (ORDERDESK_API §2.3, 2.5, 2.8).

Shipments live in the order's ``order_shipments`` (so ``GET /orders/{id}`` shows them); a
second shipment with the same tracking number and carrier is refused with OrderDesk's
"Shipment Not Added" error body (HTTP 200). History is kept beside the order, as OrderDesk
returns it only on request; a move appends a history entry, as OrderDesk's folder rules do.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from orderdesk_mcp.adapters.simulator._rules import SimError
from orderdesk_mcp.adapters.simulator._store import Store

__all__ = ["add_history", "add_shipment", "delete_shipment", "list_shipments", "move_orders"]

_SHIPMENT_FIELDS = ("tracking_number", "carrier_code", "shipment_method", "weight", "cost", "status",
                    "tracking_url")  # fmt: skip
MAX_HISTORY_NOTE = 2000


def _order(store: Store, order_id: str) -> dict[str, Any]:
    doc = store.orders.get(order_id)
    if doc is None:
        raise SimError(404, "Order not found")
    return doc


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    tracking = str(a.get("tracking_number", "")).strip().casefold()
    return (
        tracking not in ("", "n/a")
        and tracking == str(b.get("tracking_number", "")).strip().casefold()
        and str(a.get("carrier_code", "")).strip().casefold()
        == str(b.get("carrier_code", "")).strip().casefold()
    )


def list_shipments(store: Store, order_id: str) -> list[dict[str, Any]]:
    shipments = _order(store, order_id).get("order_shipments")
    return copy.deepcopy(shipments if isinstance(shipments, list) else [])


def add_shipment(store: Store, order_id: str, body: Mapping[str, Any], *, shipment_id: str, now: str) -> None:
    """``POST /orders/{id}/shipments``. Raises: SimError 404; 200 "Shipment Not Added" for a duplicate."""
    doc = _order(store, order_id)
    if not str(body.get("tracking_number") or "").strip() or not str(body.get("carrier_code") or "").strip():
        raise SimError(422, "tracking_number and carrier_code are required")
    existing = doc.get("order_shipments")
    shipments: list[Any] = existing if isinstance(existing, list) else []
    if any(isinstance(s, dict) and _same(s, body) for s in shipments):
        raise SimError(200, "Shipment Not Added")
    shipment = dict.fromkeys(_SHIPMENT_FIELDS, "") | {
        k: str(v) if k in ("weight", "cost") else v for k, v in body.items() if k in _SHIPMENT_FIELDS
    }
    if not shipment["tracking_url"]:
        shipment["tracking_url"] = (
            f"https://track.example/{shipment['carrier_code']}/{shipment['tracking_number']}"
        )
    shipment |= {"id": shipment_id, "order_id": order_id, "store_id": "", "label_format": "",
                 "label_image": "", "print_status": "0", "order_items": "", "cart_shipment_id": "",
                 "label_shipment_id": "", "date_shipped": now[:10], "date_added": now}  # fmt: skip
    doc["order_shipments"] = [*shipments, shipment]
    doc["date_updated"] = now


def delete_shipment(store: Store, order_id: str, shipment_id: str, *, now: str) -> None:
    """Raises: SimError 404 "Order not found" / "Shipment not found"."""
    doc = _order(store, order_id)
    shipments = doc.get("order_shipments")
    kept = [s for s in shipments or [] if not (isinstance(s, dict) and str(s.get("id")) == shipment_id)]
    if not isinstance(shipments, list) or len(kept) == len(shipments):
        raise SimError(404, "Shipment not found")
    doc["order_shipments"] = kept
    doc["date_updated"] = now


def _history_entry(note: str, now: str, source: str = "API") -> dict[str, Any]:
    return {"source_name": source, "note": note, "date_added": now}


def add_history(store: Store, order_id: str, body: Mapping[str, Any], *, now: str) -> dict[str, Any]:
    """``POST /orders/{id}/order-history``: returns the order with its ``order_history``."""
    doc = _order(store, order_id)
    note = body.get("note")
    if not isinstance(note, str) or not note.strip():
        raise SimError(422, "note is required")
    if len(note) > MAX_HISTORY_NOTE:
        raise SimError(422, f"note must be at most {MAX_HISTORY_NOTE} characters")
    source = body.get("source_name")
    history = store.history.setdefault(order_id, [])
    history.append(_history_entry(note, now, source if isinstance(source, str) and source else "API"))
    return copy.deepcopy(doc) | {"order_history": copy.deepcopy(history)}


def move_orders(store: Store, body: Mapping[str, Any], *, now: str) -> tuple[str, list[dict[str, Any]]]:
    """``POST /move-orders``: (message, per-order results). Unknown orders fail one by one.

    Raises: SimError 422 for a missing, doubled or unknown destination, or a bad id list.
    """
    ids, by_id, by_name = (body.get(k) for k in ("order_id_list", "destination_folder_id",
                                                 "destination_folder_name"))  # fmt: skip
    if not isinstance(ids, list) or not ids:
        raise SimError(422, "order_id_list must be a list of order ids")
    if (by_id is None) == (by_name is None):
        raise SimError(422, "Send destination_folder_id or destination_folder_name")
    if by_name is not None:
        matches = [fid for fid, name in store.folders.items() if name == by_name]
    else:
        matches = [fid for fid in store.folders if str(fid) == str(by_id)]
    if not matches:
        raise SimError(422, "Destination folder not found")
    target = matches[0]
    results: list[dict[str, Any]] = []
    for raw in ids:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise SimError(422, "order_id_list entries must be integers")
        doc = store.orders.get(str(raw))
        if doc is None:
            results.append({"order_id": raw, "status": "error", "message": "Order Not Found"})
            continue
        original = doc.get("folder_id")
        doc["folder_id"] = target
        doc["date_updated"] = now
        name = store.folders[target]
        store.history.setdefault(str(raw), []).append(
            _history_entry(f"Order moved to {name}", now, "Order Desk")
        )
        results.append(
            {"order_id": raw, "message": f"Order Moved to {name} Folder", "original_folder_id": original}
        )
    moved = sum(1 for r in results if "original_folder_id" in r)
    return f"{moved} Orders Moved", results
