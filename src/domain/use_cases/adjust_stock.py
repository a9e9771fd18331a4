"""AdjustStock: "we received 10", "two broke": stock + delta, never lost to another adjustment.

Under the item's write lock (shared by every replica through the configured ``WriteLock``):
read the item, refuse a negative result unless allowed, PUT the whole item with the new stock
(OrderDesk's PUT blanks what it is not sent), and verify by a read, since OrderDesk's answer
carries no item. An item may be named by its code; the code must match exactly one item.

The lock is held from the read to the end of the verifying read, and the tokens of the read
and the PUT are taken before the read, so nothing waits between them. A PUT that fails with a
429 or a 5xx is never re-sent as it was: the next round (``WriteRounds``, as for orders) reads
the item again and applies the delta to the stock it finds. A PUT whose answer was lost may
have landed, and no stock read afterwards can tell: the one it sent may be another change,
the one it read ours undone. So it ends with ``OutcomeUnknown`` giving the figures (read, sent,
read again) rather than risk counting the delta twice, or reporting done one never made.
A simple adjustment costs one GET, one PUT and the verifying GET; the PUT's audit attempt is
appended while the GET is in flight.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial

import msgspec

from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.context import record_attempts
from orderdesk_mcp.domain.errors import OrderDeskError, OutcomeUnknown, UpstreamRejected
from orderdesk_mcp.domain.inventory import InventoryItem, InventoryQuery
from orderdesk_mcp.domain.merge import merge
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.reach_commands import AdjustStockCommand
from orderdesk_mcp.domain.reach_errors import AmbiguousInventoryCode, InventoryItemNotFound, NegativeStock
from orderdesk_mcp.domain.reach_results import StockAdjusted
from orderdesk_mcp.domain.results import Change
from orderdesk_mcp.domain.use_cases._audit import audit_mutation
from orderdesk_mcp.domain.use_cases._reach_outcome import may_have_written
from orderdesk_mcp.domain.use_cases.audited_write import AuditedWrite, attempt_ahead
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations
from orderdesk_mcp.domain.use_cases.resilience import Resilience
from orderdesk_mcp.domain.use_cases.write_rounds import PutFailed, WriteRounds, next_round
from orderdesk_mcp.ports.audit import AuditLog
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.inventory import InventoryGateway
from orderdesk_mcp.ports.write_lock import WriteLock

__all__ = ["AdjustStock"]

TOOL = "inventory_adjust_stock"


class _Run(msgspec.Struct):
    """What one call has done so far (read by the audit step when it fails)."""

    attempts: int = 0
    change: tuple[Change, ...] = ()
    unconfirmed: tuple[int, int] | None = None  # (before, after) of a PUT that may have landed


class _Adjusted(msgspec.Struct, frozen=True):
    saved: InventoryItem
    before: int
    after: int


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
        policy: ConflictPolicy | None = None,
        resilience: Resilience | None = None,
        jitter: Callable[[], float] = random.random,
        audited: AuditedWrite | None = None,
    ) -> None:
        """``resilience``: whose bucket the read's and the PUT's tokens are taken from before the
        read (``ResilientInventoryGateway.resilience``); None takes none ahead, as for orders."""
        self._inventory = inventory
        self._audited = audited
        self._lock = lock
        self._audit = audit
        self._clock = clock
        self._invalidations = (
            invalidations if invalidations is not None else Invalidations(cache=cache, clock=clock, ttl=0.0)
        )
        self._writes = WriteRounds(
            clock=clock, policy=policy or ConflictPolicy(), resilience=resilience, jitter=jitter
        )

    async def __call__(self, cmd: AdjustStockCommand) -> StockAdjusted:
        """Raises: InventoryItemNotFound; AmbiguousInventoryCode; NegativeStock; UpstreamRejected
        (unreadable stock, or not saved); WriteInProgress; RateLimited or UpstreamUnavailable when
        every round's PUT failed; OutcomeUnknown when a PUT's answer was lost and the stock moved
        otherwise too; and the gateway's other upstream errors."""
        item_id = cmd.item_id
        run = _Run()
        try:
            if item_id is None:
                item_id = await self._by_code(cmd.store, str(cmd.code))
            found = item_id
            async with self._lock.hold(cmd.store, f"inventory:{found}"):
                done = await self._writes.run(
                    cmd.store, lambda attempt: self._round(cmd, found, run, attempt)
                )
            if done.saved.stock != done.after:
                raise UpstreamRejected(
                    f"inventory item {item_id} was saved with stock {done.saved.stock}, not {done.after}; "
                    "read it again"
                )
        except OrderDeskError as exc:
            await audit_mutation(
                self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=None, outcome="error",
                attempts=max(run.attempts, 1), changes=run.change, error=str(exc),
                resource=f"inventory:{item_id or cmd.code}",
            )  # fmt: skip
            raise
        finally:
            record_attempts(run.attempts)
        await audit_mutation(
            self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=None, outcome="ok",
            attempts=run.attempts, changes=run.change, resource=f"inventory:{item_id}",
        )  # fmt: skip
        return StockAdjusted(
            item_id=item_id, code=done.saved.code, stock_before=done.before, stock_after=done.after
        )

    async def _round(
        self, cmd: AdjustStockCommand, item_id: str, run: _Run, attempt: int
    ) -> _Adjusted | PutFailed:
        """Read, apply the delta, PUT, verify by a read (inside the item's lock and prepaid tokens)."""
        run.attempts = attempt
        resource = f"inventory:{item_id}"
        async with attempt_ahead(self._audited, cmd.store, TOOL, resource=resource) as pending:
            item = await self._inventory.fetch_item(cmd.store, item_id)
            if run.unconfirmed is not None:
                earlier, sent = run.unconfirmed
                # Whether ours landed cannot be told from the stock: the one we sent may be ours or
                # another change (a restock after ours was lost), the one we read ours undone by an
                # opposite one. A delta applied again could count twice, and one reported done may
                # never have been made: the agent decides, with the figures.
                now = item.stock
                raise OutcomeUnknown(
                    f"stock adjustment of inventory item {item_id}",
                    f"its answer was lost; the stock was {earlier}, we sent {sent}, it is now {now}",
                )
            before = item.stock
            if before is None:
                raise UpstreamRejected(f"inventory item {item_id} has no readable stock")
            after = before + cmd.delta
            if after < 0 and not cmd.allow_negative:
                raise NegativeStock(item_id, before, cmd.delta)
            run.change = (Change(field="stock", before=before, after=after),)
            if cmd.reason is not None:  # kept in the audit record only: OrderDesk has no field for it
                run.change += (Change(field="reason", after=cmd.reason),)
            try:
                changed = merge(item.doc, {"stock": after})
                await pending.send(partial(self._inventory.replace_item, cmd.store, item_id, changed))
            except OrderDeskError as exc:
                if not next_round(exc):
                    raise
                run.unconfirmed = (before, after) if may_have_written(exc) else None
                return PutFailed(exc)
            finally:
                await self._invalidations.after_inventory_write(cmd.store, item_id)
            return _Adjusted(await self._inventory.fetch_item(cmd.store, item_id), before, after)

    async def _by_code(self, store: StoreRef, code: str) -> str:
        page = await self._inventory.inventory_page(store, InventoryQuery(code=code, limit=10))
        matches = tuple(i.id for i in page.items if i.code == code)
        if not matches:
            raise InventoryItemNotFound(f"with code {code!r}", store.store_id, by_code=True)
        if len(matches) > 1:
            raise AmbiguousInventoryCode(code, matches)
        return matches[0]
