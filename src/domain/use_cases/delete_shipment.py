"""DeleteShipment: delete one shipment of an order, only when the caller confirmed it.

The DELETE is sent under the order's write lock, like every other write of an order: it changes
the document (its shipments), and an update's cache fill is safe only if no write of the same
order lands between that update's PUT and its fill.
"""

from __future__ import annotations

from orderdesk_mcp.domain.errors import ConfirmationRequired, OrderDeskError
from orderdesk_mcp.domain.reach_commands import DeleteShipmentCommand
from orderdesk_mcp.domain.reach_results import DeletedShipment
from orderdesk_mcp.domain.use_cases._audit import audit_mutation
from orderdesk_mcp.domain.use_cases._order_lock import hold_order
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations
from orderdesk_mcp.ports.audit import AuditLog
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.shipments import ShipmentGateway
from orderdesk_mcp.ports.write_lock import WriteLock

__all__ = ["DeleteShipment"]

TOOL = "shipments_delete"


class DeleteShipment:
    def __init__(
        self,
        *,
        shipments: ShipmentGateway,
        cache: OrderCache,
        audit: AuditLog,
        clock: Clock,
        invalidations: Invalidations | None = None,
        lock: WriteLock | None = None,
    ) -> None:
        self._shipments = shipments
        self._lock = lock
        self._invalidations = invalidations or Invalidations(cache=cache, clock=clock, ttl=0.0)
        self._audit = audit
        self._clock = clock

    async def __call__(self, cmd: DeleteShipmentCommand) -> DeletedShipment:
        """Raises: ConfirmationRequired (nothing sent); WriteInProgress (the order's lock); OrderNotFound;
        ShipmentNotFound; upstream errors."""
        if not cmd.confirm:
            raise ConfirmationRequired(
                f"deleting shipment {cmd.shipment_id} of order {cmd.order_id}",
                "Call shipments_delete again with confirm: true to delete it permanently.",
            )
        resource = f"shipment:{cmd.shipment_id}"
        held = hold_order(self._lock, cmd.store, cmd.order_id)
        try:
            async with held:
                await self._shipments.delete_shipment(cmd.store, cmd.order_id, cmd.shipment_id)
        except OrderDeskError as exc:
            await audit_mutation(
                self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=cmd.order_id, outcome="error",
                error=str(exc), resource=resource,
            )  # fmt: skip
            raise
        finally:
            await self._invalidations.after_write(cmd.store, cmd.order_id)
        await audit_mutation(
            self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=cmd.order_id, outcome="ok",
            resource=resource,
        )  # fmt: skip
        return DeletedShipment(order_id=cmd.order_id, shipment_id=cmd.shipment_id)
