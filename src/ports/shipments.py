"""The shipment port: an order's shipments (``/orders/{id}/shipments``)."""

from __future__ import annotations

from typing import Protocol

from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.shipment import NewShipment, Shipment

__all__ = ["ShipmentGateway"]


class ShipmentGateway(Protocol):
    """Every method may also raise ``AuthenticationFailed``, ``CredentialsMissing``,
    ``RateLimited``, ``UpstreamUnavailable`` and ``UpstreamRejected``."""

    async def shipments(self, store: StoreRef, order_id: str) -> tuple[Shipment, ...]:
        """The order's shipments. Raises: OrderNotFound."""
        ...

    async def add_shipment(self, store: StoreRef, order_id: str, shipment: NewShipment) -> None:
        """Add one shipment (OrderDesk's answer carries no shipment).

        Raises: OrderNotFound; DuplicateShipment when OrderDesk answers "Shipment Not Added".
        """
        ...

    async def delete_shipment(self, store: StoreRef, order_id: str, shipment_id: str) -> None:
        """Delete one shipment. Raises: OrderNotFound; ShipmentNotFound."""
        ...
