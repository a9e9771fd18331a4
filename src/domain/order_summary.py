"""The summary view of an order: one flat object an agent can scan in a list.

Who (name, e-mail), what (items, quantities), how much, where it sits (folder), and the
fingerprint to pass back when updating. Pure; the order document is never altered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from orderdesk_mcp.domain.folders import Folder, folder_name_of
from orderdesk_mcp.domain.order import Order

__all__ = ["summarize"]


def _number(value: object) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return int(number) if number.is_integer() else number
    return None


def _person(section: object) -> str:
    if not isinstance(section, Mapping):
        return ""
    parts = (str(section.get(key) or "").strip() for key in ("first_name", "last_name"))
    return " ".join(part for part in parts if part)


def _company(section: object) -> str:
    return str(section.get("company") or "").strip() if isinstance(section, Mapping) else ""


def _name(doc: Mapping[str, Any]) -> str | None:
    """Shipping or customer first and last name, else a company; None when there is none."""
    shipping, customer = doc.get("shipping"), doc.get("customer")
    return _person(shipping) or _person(customer) or _company(shipping) or _company(customer) or None


def _items(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = doc.get("order_items")
    return [item for item in items if isinstance(item, Mapping)] if isinstance(items, list) else []


def summarize(order: Order, folders: Iterable[Folder]) -> dict[str, Any]:
    """One flat object: who, what, how much, where it sits, and the fingerprint to update with."""
    doc = order.doc
    items = _items(doc)
    quantity = _number(doc.get("quantity_total"))
    if quantity is None:
        quantity = sum(_number(item.get("quantity")) or 0 for item in items)
    shipments = doc.get("order_shipments")
    return {
        "id": order.id,
        "source_id": doc.get("source_id"),
        "folder": folder_name_of(folders, order.view.folder_id),
        "folder_id": order.view.folder_id,
        "date_added": doc.get("date_added"),
        "date_updated": doc.get("date_updated"),
        "name": _name(doc),
        "email": doc.get("email"),
        "order_total": _number(doc.get("order_total")),
        "payment_status": doc.get("payment_status"),
        "item_count": len(items),
        "quantity_total": quantity,
        "shipment_count": len(shipments) if isinstance(shipments, list) else 0,
        "fingerprint": order.fingerprint,
    }
