"""Errors of the folder-move, shipment, history-note and inventory tools (additive to ``errors``).

Like every :class:`OrderDeskError`, each stores its facts and builds a one-line message an
agent can act on.
"""

from __future__ import annotations

from orderdesk_mcp.domain.errors import OrderDeskError

__all__ = [
    "AmbiguousInventoryCode",
    "DuplicateShipment",
    "InventoryItemNotFound",
    "NegativeStock",
    "NoteKeyReused",
    "ShipmentNotFound",
    "StaleItemFingerprint",
]


class ShipmentNotFound(OrderDeskError):
    """The order has no shipment with that id."""

    def __init__(self, order_id: str, shipment_id: str) -> None:
        self.order_id = order_id
        self.shipment_id = shipment_id
        super().__init__(f"Order {order_id} has no shipment {shipment_id}; list them with shipments_list.")


class DuplicateShipment(OrderDeskError):
    """OrderDesk refused a shipment already on the order ("Shipment Not Added")."""

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id
        super().__init__(f"OrderDesk did not add the shipment to order {order_id}: it already has it.")


class InventoryItemNotFound(OrderDeskError):
    """The store has no inventory item by that id (or code)."""

    def __init__(self, item: str, store_id: str, *, by_code: bool = False) -> None:
        self.item = item
        self.store_id = store_id
        hint = " inventory_list with search finds items by a part of their name or code." if by_code else ""
        super().__init__(f"Inventory item {item} was not found in store {store_id}.{hint}")


class AmbiguousInventoryCode(OrderDeskError):
    """Several inventory items share the code; the caller must name one by id."""

    def __init__(self, code: str, item_ids: tuple[str, ...]) -> None:
        self.code = code
        self.item_ids = item_ids
        super().__init__(
            f"Several inventory items have code {code!r} (ids {', '.join(item_ids)}); pass item_id instead."
        )


class NegativeStock(OrderDeskError):
    """An adjustment would take stock below zero without ``allow_negative``."""

    def __init__(self, item_id: str, stock: int, delta: int) -> None:
        self.item_id = item_id
        self.stock = stock
        self.delta = delta
        super().__init__(
            f"Inventory item {item_id} has {stock} in stock; a change of {delta:+d} would make it "
            f"{stock + delta}. Nothing was written; pass allow_negative: true to allow it."
        )


class StaleItemFingerprint(OrderDeskError):
    """The inventory item changed since the caller read it."""

    def __init__(self, item_id: str, changed_fields: tuple[str, ...]) -> None:
        self.item_id = item_id
        self.changed_fields = changed_fields
        fields = f" (changed: {', '.join(changed_fields)})" if changed_fields else ""
        super().__init__(
            f"Inventory item {item_id} changed since you read it{fields}. Nothing was written; read it "
            "again with inventory_get and retry with the new fingerprint."
        )


class NoteKeyReused(OrderDeskError):
    """An idempotency key of a history note was reused for another order or note text."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"Idempotency key {key!r} was already used for a different note; use a new key for a new note."
        )
