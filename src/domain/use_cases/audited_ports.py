"""Audited order actions, shipments and inventory: an ``attempt`` record before every write.

The same bracket as :class:`~orderdesk_mcp.domain.use_cases.audited_gateway.AuditedOrderGateway`
(:class:`~orderdesk_mcp.domain.use_cases.audited_write.AuditedWrite`) for the writes that go
through the other ports: a folder move and a history note (``OrderActions``), a shipment's add
and delete (``ShipmentGateway``) and an inventory item's PUT (``InventoryGateway``). Each wraps
the resilient port, so one attempt covers that layer's retries of the call, as for orders; a
write sent again by the use case (an inventory PUT's next round) is a new attempt. Each record
names the order where there is one and, in ``resource``, what else was written, as the use
cases' own records do: ``orders:<ids>`` for a move, ``shipment:<id>`` for a delete,
``inventory:<item id>`` for a PUT. Reads pass straight through.
"""

from __future__ import annotations

from collections.abc import Sequence

from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.reach_results import MoveReport
from orderdesk_mcp.domain.shipment import NewShipment, Shipment
from orderdesk_mcp.domain.use_cases.audited_write import AuditedWrite
from orderdesk_mcp.ports.audit import AuditLog
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.order_actions import OrderActions
from orderdesk_mcp.ports.shipments import ShipmentGateway

__all__ = ["AuditedOrderActions", "AuditedShipmentGateway"]


class AuditedOrderActions:
    """An :class:`~orderdesk_mcp.ports.order_actions.OrderActions` that audits each write's attempt."""

    def __init__(self, *, inner: OrderActions, audit: AuditLog, clock: Clock) -> None:
        self._inner = inner
        self._write = AuditedWrite(audit=audit, clock=clock)

    async def move_orders(
        self, store: StoreRef, order_ids: Sequence[str], folder_id: int
    ) -> tuple[MoveReport, ...]:
        ids = tuple(order_ids)
        return await self._write(
            store, "orders_move", lambda: self._inner.move_orders(store, order_ids, folder_id),
            order_id=ids[0] if len(ids) == 1 else None, resource=f"orders:{','.join(ids)}",
        )  # fmt: skip

    async def add_history_note(self, store: StoreRef, order_id: str, note: str) -> Order:
        return await self._write(
            store, "orders_add_note", lambda: self._inner.add_history_note(store, order_id, note),
            order_id=order_id,
        )  # fmt: skip


class AuditedShipmentGateway:
    """A :class:`~orderdesk_mcp.ports.shipments.ShipmentGateway` that audits each write's attempt."""

    def __init__(self, *, inner: ShipmentGateway, audit: AuditLog, clock: Clock) -> None:
        self._inner = inner
        self._write = AuditedWrite(audit=audit, clock=clock)

    async def shipments(self, store: StoreRef, order_id: str) -> tuple[Shipment, ...]:
        return await self._inner.shipments(store, order_id)

    async def add_shipment(self, store: StoreRef, order_id: str, shipment: NewShipment) -> None:
        # OrderDesk's answer names no shipment: the use case's record carries its id.
        await self._write(
            store, "shipments_add", lambda: self._inner.add_shipment(store, order_id, shipment),
            order_id=order_id,
        )  # fmt: skip

    async def delete_shipment(self, store: StoreRef, order_id: str, shipment_id: str) -> None:
        await self._write(
            store, "shipments_delete", lambda: self._inner.delete_shipment(store, order_id, shipment_id),
            order_id=order_id, resource=f"shipment:{shipment_id}",
        )  # fmt: skip
