"""Order documents of one simulated store: read (with a watched edit), list, create, replace, delete.

Ids and the time come from the simulator as callables, so an id is taken and the clock read
only where OrderDesk would (after validation). Every function hands out deep copies.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from orderdesk_mcp.adapters.simulator._faults import Faults
from orderdesk_mcp.adapters.simulator._listing import select
from orderdesk_mcp.adapters.simulator._rules import (
    SimError,
    compute_totals,
    stamp_items,
    validate_items,
    validate_new,
)
from orderdesk_mcp.adapters.simulator._store import Store

__all__ = ["create_order", "delete_order", "get_order", "list_orders", "replace_order"]


def get_order(store: Store, order_id: str, *, faults: Faults, now: Callable[[], str]) -> dict[str, Any]:
    """The order as stored; then, if a ``change_after_read`` watch is set, another writer edits it.

    Raises:
        SimError: 404 "Order not found".
    """
    doc = _existing(store, order_id)
    served = copy.deepcopy(doc)
    watch = faults.take_watch(order_id)
    if watch is not None:
        faults.external_edits += 1
        if watch.mutate is not None:
            watch.mutate(doc)
        else:
            meta = doc.get("order_metadata")
            doc["order_metadata"] = (meta if isinstance(meta, dict) else {}) | {
                "external_edit": faults.external_edits
            }
        doc["date_updated"] = now()
    return served


def list_orders(store: Store, params: Mapping[str, str]) -> tuple[int, list[dict[str, Any]], int, int]:
    """(total, page, limit, offset) for ``GET /orders`` query parameters.

    Raises:
        SimError: 422 for a parameter out of range or in the wrong format.
    """
    total, page, limit, offset = select(list(store.orders.values()), store.folders, params)
    return total, copy.deepcopy(page), limit, offset


def create_order(
    store: Store,
    doc: Mapping[str, Any],
    *,
    new_id: Callable[[], int],
    new_item_id: Callable[[], str],
    now: Callable[[], str],
) -> dict[str, Any]:
    """``POST /orders``: validate, fill defaults, compute totals, store.

    Raises:
        SimError: 422 naming what is missing, a duplicate (source_name, source_id), or an
            unknown folder.
    """
    body = copy.deepcopy(dict(doc))
    validate_new(body)
    source_name = str(body.get("source_name") or "Order Desk")
    source_id = str(body.get("source_id") or "")
    for existing in store.orders.values() if source_id else ():
        if (existing.get("source_name"), existing.get("source_id")) == (source_name, source_id):
            raise SimError(422, f"Duplicate order: existing order id {existing['id']}")
    folder_id = _folder(store, body.get("folder_id") or next(iter(store.folders)))
    order_id = str(new_id())
    body.setdefault("shipping", copy.deepcopy(body.get("customer") or {}))
    body.setdefault("customer", copy.deepcopy(body.get("shipping") or {}))
    body.setdefault("payment_status", "Captured")
    body.setdefault("order_shipments", [])
    stamp = now()
    body |= {"id": order_id, "source_id": source_id or order_id, "source_name": source_name,
             "folder_id": folder_id, "date_added": stamp, "date_updated": stamp}  # fmt: skip
    _finish(store, body, new_item_id)
    return copy.deepcopy(body)


def replace_order(
    store: Store,
    order_id: str,
    doc: Mapping[str, Any],
    *,
    faults: Faults,
    new_item_id: Callable[[], str],
    now: Callable[[], str],
) -> dict[str, Any]:
    """``PUT /orders/{id}``: full replacement; what the body leaves out is gone.

    ``id`` and ``date_added`` are kept, ``date_updated`` bumped, totals recomputed; items with
    an ``id`` are updated, items without one added, omitted items removed; ``order_shipments``
    cannot be changed this way; an absent ``folder_id`` keeps the order where it is.

    Raises:
        SimError: 404 "Order not found"; 409 when ``conflict_next_put`` is armed; 422 for
            malformed items or an unknown folder.
    """
    old = _existing(store, order_id)
    if faults.take_conflict():
        raise SimError(409, "Order was modified by another request")
    body = copy.deepcopy(dict(doc))
    validate_items(body)
    body |= {"id": order_id, "date_added": old.get("date_added", ""), "date_updated": now(),
             "order_shipments": copy.deepcopy(old.get("order_shipments", [])),
             "folder_id": _folder(store, body.get("folder_id") or old.get("folder_id"))}  # fmt: skip
    _finish(store, body, new_item_id)
    return copy.deepcopy(body)


def delete_order(store: Store, order_id: str) -> None:
    """Raises: SimError 404 "Order not found"."""
    _existing(store, order_id)
    del store.orders[order_id]


def _existing(store: Store, order_id: str) -> dict[str, Any]:
    doc = store.orders.get(order_id)
    if doc is None:
        raise SimError(404, "Order not found")
    return doc


def _folder(store: Store, value: object) -> int:
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdigit() or int(text) not in store.folders:
        raise SimError(422, f"folder_id must be one of the store's folders: {sorted(store.folders)}")
    return int(text)


def _finish(store: Store, body: dict[str, Any], new_item_id: Callable[[], str]) -> None:
    stamp_items(body, new_item_id)
    email = body.get("email")
    others = sum(
        1 for o in store.orders.values() if email and o.get("email") == email and o["id"] != body["id"]
    )
    compute_totals(body, email_count=others + 1)
    store.orders[body["id"]] = body
