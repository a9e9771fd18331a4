"""DeleteOrder: delete one order, only when the caller confirmed it.

A DELETE whose answer was lost (the connection dropped after sending) is retried; when the
retry finds the order gone (404), the first request deleted it. That is reported as deleted,
with a note that the first answer was lost, not as "not found".
"""

from __future__ import annotations

from orderdesk_mcp.domain.commands import DeleteOrderCommand
from orderdesk_mcp.domain.context import current_call
from orderdesk_mcp.domain.errors import ConfirmationRequired, OrderDeskError, OrderNotFound
from orderdesk_mcp.domain.results import DeletedOrder
from orderdesk_mcp.domain.use_cases._audit import audit_mutation
from orderdesk_mcp.domain.use_cases._order_lock import hold_order
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations
from orderdesk_mcp.ports.audit import AuditLog
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.gateway import OrderGateway
from orderdesk_mcp.ports.write_lock import WriteLock

__all__ = ["DeleteOrder"]

TOOL = "orders_delete"
LOST_FIRST_ANSWER = (
    "OrderDesk's answer to the first delete request was lost; the retry found the order already "
    "gone, so that first request deleted it."
)


def _an_answer_was_lost() -> bool:
    """Whether a DELETE of this call was sent and its answer never came (status 0 in the stats)."""
    call = current_call()
    return call is not None and call.stats.upstream.get(("DELETE", 0), 0) > 0


class DeleteOrder:
    def __init__(
        self,
        *,
        gateway: OrderGateway,
        cache: OrderCache,
        audit: AuditLog,
        clock: Clock,
        invalidations: Invalidations | None = None,
        lock: WriteLock | None = None,
    ) -> None:
        self._gateway = gateway
        self._lock = lock
        self._invalidations = invalidations or Invalidations(cache=cache, clock=clock, ttl=0.0)
        self._audit = audit
        self._clock = clock

    async def __call__(self, cmd: DeleteOrderCommand) -> DeletedOrder:
        """Delete the order.

        Raises:
            ConfirmationRequired: ``confirm`` was not true (nothing is sent).
            OrderNotFound: the order was not there (and no earlier answer of this call was lost).
            and the gateway's other upstream errors.
        """
        if not cmd.confirm:
            raise ConfirmationRequired(
                f"deleting order {cmd.order_id}",
                "Call orders_delete again with confirm: true to delete it permanently.",
            )
        note = ""
        # Under the order's write lock: an update through this service that is between its read
        # and its PUT finishes first, instead of failing half-way on a vanished order.
        held = hold_order(self._lock, cmd.store, cmd.order_id)
        try:
            try:
                async with held:
                    await self._gateway.delete(cmd.store, cmd.order_id)
            except OrderNotFound:
                if not _an_answer_was_lost():
                    raise
                note = LOST_FIRST_ANSWER
        except OrderDeskError as exc:
            await audit_mutation(
                self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=cmd.order_id, outcome="error",
                error=str(exc),
            )  # fmt: skip
            raise
        finally:
            await self._invalidations.after_write(cmd.store, cmd.order_id)
        await audit_mutation(
            self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=cmd.order_id, outcome="ok"
        )
        return DeletedOrder(order_id=cmd.order_id, note=note)
