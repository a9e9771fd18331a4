"""The use cases of the folder-move, shipment, history-note and inventory tools (``AppServices.reach``)."""

from __future__ import annotations

import msgspec

from orderdesk_mcp.domain.use_cases.add_order_note import AddOrderNote
from orderdesk_mcp.domain.use_cases.add_shipment import AddShipment
from orderdesk_mcp.domain.use_cases.adjust_stock import AdjustStock
from orderdesk_mcp.domain.use_cases.delete_shipment import DeleteShipment
from orderdesk_mcp.domain.use_cases.get_inventory_item import GetInventoryItem, ListInventory
from orderdesk_mcp.domain.use_cases.list_shipments import ListShipments
from orderdesk_mcp.domain.use_cases.move_orders import MoveOrders
from orderdesk_mcp.domain.use_cases.update_inventory_item import UpdateInventoryItem

__all__ = ["ReachServices"]


class ReachServices(msgspec.Struct, frozen=True, kw_only=True):
    move_orders: MoveOrders
    add_order_note: AddOrderNote
    list_shipments: ListShipments
    add_shipment: AddShipment
    delete_shipment: DeleteShipment
    list_inventory: ListInventory
    get_inventory_item: GetInventoryItem
    update_inventory_item: UpdateInventoryItem
    adjust_stock: AdjustStock
