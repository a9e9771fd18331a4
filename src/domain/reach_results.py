"""What the folder-move, shipment, history-note and inventory use cases return."""

from __future__ import annotations

import msgspec

from orderdesk_mcp.domain.inventory import InventoryItem
from orderdesk_mcp.domain.results import Change
from orderdesk_mcp.domain.shipment import Shipment

__all__ = [
    "AddedNote",
    "AddedShipment",
    "DeletedShipment",
    "FailedMove",
    "MoveReport",
    "MovedOrder",
    "OrdersMoved",
    "StockAdjusted",
    "UpdatedItem",
]


class MoveReport(msgspec.Struct, frozen=True, kw_only=True):
    """OrderDesk's answer about one order of a ``/move-orders`` request."""

    order_id: str
    moved: bool
    message: str
    original_folder_id: int | None = None


class MovedOrder(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    from_folder: str | None
    to_folder: str


class FailedMove(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    error: str


class OrdersMoved(msgspec.Struct, frozen=True, kw_only=True):
    moved: tuple[MovedOrder, ...]
    unchanged: tuple[str, ...]
    failed: tuple[FailedMove, ...]


class AddedShipment(msgspec.Struct, frozen=True, kw_only=True):
    shipment: Shipment
    created: bool
    order_fingerprint: str


class DeletedShipment(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    shipment_id: str


class AddedNote(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    note: str
    history_count: int
    fingerprint: str


class UpdatedItem(msgspec.Struct, frozen=True, kw_only=True):
    item: InventoryItem
    changed_fields: tuple[str, ...]
    diff: tuple[Change, ...] = ()
    dry_run: bool = False


class StockAdjusted(msgspec.Struct, frozen=True, kw_only=True):
    item_id: str
    code: str
    stock_before: int
    stock_after: int
