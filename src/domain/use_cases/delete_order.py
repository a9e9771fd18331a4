"""DeleteOrder: delete one order, only when the caller confirmed it."""

from __future__ import annotations

from orderdesk_mcp.domain.commands import DeleteOrderCommand
from orderdesk_mcp.domain.errors import ConfirmationRequired, OrderDeskError
from orderdesk_mcp.domain.results import DeletedOrder
from orderdesk_mcp.domain.use_cases._audit import audit_mutation
from orderdesk_mcp.domain.use_cases.cache_invalidation import invalidate_order
from orderdesk_mcp.ports.audit import AuditLog
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.gateway import OrderGateway

__all__ = ["DeleteOrder"]

TOOL = "orders.delete"


class DeleteOrder:
    def __init__(self, *, gateway: OrderGateway, cache: OrderCache, audit: AuditLog, clock: Clock) -> None:
        self._gateway = gateway
        self._cache = cache
        self._audit = audit
        self._clock = clock

    async def __call__(self, cmd: DeleteOrderCommand) -> DeletedOrder:
        """Delete the order.

        Raises:
            ConfirmationRequired: ``confirm`` was not true (nothing is sent).
            OrderNotFound, and the gateway's upstream errors.
        """
        if not cmd.confirm:
            raise ConfirmationRequired(
                f"deleting order {cmd.order_id}",
                "Call orders.delete again with confirm: true to delete it permanently.",
            )
        try:
            await self._gateway.delete(cmd.store, cmd.order_id)
        except OrderDeskError as exc:
            await audit_mutation(
                self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=cmd.order_id, outcome="error",
                error=str(exc),
            )  # fmt: skip
            raise
        finally:
            await invalidate_order(self._cache, cmd.store, cmd.order_id)
        await audit_mutation(
            self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=cmd.order_id, outcome="ok"
        )
        return DeletedOrder(order_id=cmd.order_id)
