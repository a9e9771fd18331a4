"""ListShipments: an order's shipments, always fresh (an order's cached document may lag a new one)."""

from __future__ import annotations

from orderdesk_mcp.domain.reach_commands import ListShipmentsCommand
from orderdesk_mcp.domain.shipment import Shipment
from orderdesk_mcp.ports.shipments import ShipmentGateway

__all__ = ["ListShipments"]


class ListShipments:
    def __init__(self, *, shipments: ShipmentGateway) -> None:
        self._shipments = shipments

    async def __call__(self, cmd: ListShipmentsCommand) -> tuple[Shipment, ...]:
        """Raises: OrderNotFound, and the gateway's upstream errors."""
        return await self._shipments.shipments(cmd.store, cmd.order_id)
