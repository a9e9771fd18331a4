"""AdjustStock: "we received 10", "two broke": stock + delta, never lost to another adjustment.

Under the item's write lock (shared by every replica through the configured ``WriteLock``):
read the item, refuse a negative result unless allowed, PUT the whole item with the new stock
(OrderDesk's PUT blanks what it is not sent), and verify by a read, since OrderDesk's answer
carries no item. An item may be named by its code; the code must match exactly one item.
"""

from __future__ import annotations

from orderdesk_mcp.domain.errors import OrderDeskError, UpstreamRejected
from orderdesk_mcp.domain.inventory import InventoryQuery
from orderdesk_mcp.domain.merge import merge
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.reach_commands import AdjustStockCommand
from orderdesk_mcp.domain.reach_errors import AmbiguousInventoryCode, InventoryItemNotFound, NegativeStock
from orderdesk_mcp.domain.reach_results import StockAdjusted
from orderdesk_mcp.domain.results import Change
from orderdesk_mcp.domain.use_cases._audit import audit_mutation
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations
from orderdesk_mcp.ports.audit import AuditLog
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.inventory import InventoryGateway
from orderdesk_mcp.ports.write_lock import WriteLock

__all__ = ["AdjustStock"]

TOOL = "inventory_adjust_stock"


class AdjustStock:
    def __init__(
        self,
        *,
        inventory: InventoryGateway,
        lock: WriteLock,
        cache: OrderCache,
        audit: AuditLog,
        clock: Clock,
        invalidations: Invalidations | None = None,
    ) -> None:
        self._inventory = inventory
        self._lock = lock
        self._audit = audit
        self._clock = clock
        self._invalidations = (
            invalidations if invalidations is not None else Invalidations(cache=cache, clock=clock, ttl=0.0)
        )

    async def __call__(self, cmd: AdjustStockCommand) -> StockAdjusted:
        """Raises: InventoryItemNotFound; AmbiguousInventoryCode; NegativeStock; UpstreamRejected
        (unreadable stock, or not saved); WriteInProgress; and the gateway's upstream errors."""
        item_id = cmd.item_id
        change: tuple[Change, ...] = ()
        try:
            if item_id is None:
                item_id = await self._by_code(cmd.store, str(cmd.code))
            async with self._lock.hold(cmd.store, f"inventory:{item_id}"):
                item = await self._inventory.fetch_item(cmd.store, item_id)
                before = item.stock
                if before is None:
                    raise UpstreamRejected(f"inventory item {item_id} has no readable stock")
                after = before + cmd.delta
                if after < 0 and not cmd.allow_negative:
                    raise NegativeStock(item_id, before, cmd.delta)
                change = (Change(field="stock", before=before, after=after),)
                if cmd.reason is not None:  # kept in the audit record only: OrderDesk has no field for it
                    change += (Change(field="reason", after=cmd.reason),)
                try:
                    await self._inventory.replace_item(cmd.store, item_id, merge(item.doc, {"stock": after}))
                finally:
                    await self._invalidations.after_inventory_write(cmd.store, item_id)
                saved = await self._inventory.fetch_item(cmd.store, item_id)
            if saved.stock != after:
                raise UpstreamRejected(
                    f"inventory item {item_id} was saved with stock {saved.stock}, not {after}; read it again"
                )
        except OrderDeskError as exc:
            await audit_mutation(
                self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=None, outcome="error",
                changes=change, error=str(exc), resource=f"inventory:{item_id or cmd.code}",
            )  # fmt: skip
            raise
        await audit_mutation(
            self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=None, outcome="ok", changes=change,
            resource=f"inventory:{item_id}",
        )  # fmt: skip
        return StockAdjusted(item_id=item_id, code=saved.code, stock_before=before, stock_after=after)

    async def _by_code(self, store: StoreRef, code: str) -> str:
        page = await self._inventory.inventory_page(store, InventoryQuery(code=code, limit=10))
        matches = tuple(i.id for i in page.items if i.code == code)
        if not matches:
            raise InventoryItemNotFound(f"with code {code!r}", store.store_id)
        if len(matches) > 1:
            raise AmbiguousInventoryCode(code, matches)
        return matches[0]
