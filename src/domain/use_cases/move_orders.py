"""MoveOrders: move orders to a folder with one ``POST /move-orders``.

The folder is resolved (id, or name in any case) before any request, so an unknown folder
costs nothing and names the store's folders. Moving runs the folder's rules in OrderDesk
(e-mails, fulfilment), so an order already in the folder is reported ``unchanged`` and never
sent, and a move whose answer was lost is never re-sent: each order is read again to see
where it is, as is an order the answer does not report as moved. Each order's write lock is
held from the read to the answer, so an update going through this service cannot put an order
back in its old folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AsyncExitStack

import anyio

from orderdesk_mcp.domain.errors import OrderDeskError, OrderNotFound, safe_upstream_text
from orderdesk_mcp.domain.folders import Folder, folder_name_of
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.reach_commands import MoveOrdersCommand
from orderdesk_mcp.domain.reach_results import FailedMove, MovedOrder, MoveReport, OrdersMoved
from orderdesk_mcp.domain.results import Change
from orderdesk_mcp.domain.use_cases._audit import audit_mutation
from orderdesk_mcp.domain.use_cases._reach_outcome import may_have_written
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations
from orderdesk_mcp.domain.use_cases.list_folders import ListFolders
from orderdesk_mcp.ports.audit import AuditLog
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.gateway import OrderGateway
from orderdesk_mcp.ports.order_actions import OrderActions
from orderdesk_mcp.ports.write_lock import WriteLock

__all__ = ["MoveOrders"]

TOOL = "orders_move"
_READS_AT_ONCE = 8
_NOT_REPORTED = "OrderDesk did not report on this order; read it to see its folder"


class MoveOrders:
    def __init__(
        self,
        *,
        gateway: OrderGateway,
        actions: OrderActions,
        folders: ListFolders,
        lock: WriteLock,
        cache: OrderCache,
        audit: AuditLog,
        clock: Clock,
        invalidations: Invalidations | None = None,
    ) -> None:
        self._gateway = gateway
        self._actions = actions
        self._folders = folders
        self._lock = lock
        self._invalidations = invalidations or Invalidations(cache=cache, clock=clock, ttl=0.0)
        self._audit = audit
        self._clock = clock

    async def __call__(self, cmd: MoveOrdersCommand) -> OrdersMoved:
        """Move every order not already in the folder.

        Raises:
            UnknownFolder: before any request, listing the store's folders.
            WriteInProgress: another writer held one of the orders for the whole deadline.
            UpstreamRejected: OrderDesk refused the move as a whole; and the gateways' upstream errors.
        """
        target = await self._folders.resolve(cmd.store, cmd.folder)
        known = await self._folders(cmd.store)
        async with AsyncExitStack() as stack:
            for order_id in sorted(cmd.order_ids, key=lambda i: (len(i), i)):  # one order: no deadlock
                await stack.enter_async_context(self._lock.hold(cmd.store, f"order:{order_id}"))
            read = await self._read_all(cmd.store, cmd.order_ids)
            current = {i: o for i, o in read.items() if isinstance(o, Order)}
            failed = [
                FailedMove(order_id=i, error=str(o)) for i, o in read.items() if not isinstance(o, Order)
            ]
            unchanged = tuple(i for i, o in current.items() if o.view.folder_id == target.id)
            to_send = [i for i in current if i not in unchanged]
            moved: list[MovedOrder] = []
            if to_send:
                reports = await self._send(cmd.store, to_send, target)
                for order_id in to_send:
                    before = current[order_id].view.folder_id
                    report = reports.get(order_id)
                    if report is not None and report.moved:
                        origin = (
                            report.original_folder_id if report.original_folder_id is not None else before
                        )
                        moved.append(
                            MovedOrder(
                                order_id=order_id,
                                from_folder=folder_name_of(known, origin),
                                to_folder=target.name,
                            )
                        )
                    else:
                        error = _NOT_REPORTED if report is None else _refusal(report.message)
                        failed.append(FailedMove(order_id=order_id, error=error))
                    await self._audit_one(cmd.store, order_id, before, target, report)
        return OrdersMoved(moved=tuple(moved), unchanged=unchanged, failed=tuple(failed))

    async def _read_all(
        self, store: StoreRef, order_ids: tuple[str, ...]
    ) -> dict[str, Order | OrderNotFound]:
        """Fresh reads (a cached folder could be stale either way), a few at a time, in the caller's order.

        Raises: the first upstream error other than OrderNotFound (as itself, not in a group).
        """
        found = await self._fetch_each(store, order_ids)
        result: dict[str, Order | OrderNotFound] = {}
        for order_id in order_ids:
            value = found[order_id]
            if not isinstance(value, Order | OrderNotFound):
                raise value
            result[order_id] = value
        return result

    async def _fetch_each(
        self, store: StoreRef, order_ids: Sequence[str]
    ) -> dict[str, Order | OrderDeskError]:
        """Fresh reads (never the cache), a few at a time: each order or the error its read ended in."""
        found: dict[str, Order | OrderDeskError] = {}
        limiter = anyio.CapacityLimiter(_READS_AT_ONCE)

        async def read(order_id: str) -> None:
            async with limiter:
                try:
                    found[order_id] = await self._gateway.fetch(store, order_id)
                except OrderDeskError as exc:
                    found[order_id] = exc

        async with anyio.create_task_group() as tg:
            for order_id in order_ids:
                tg.start_soon(read, order_id)
        return found

    async def _send(self, store: StoreRef, order_ids: list[str], target: Folder) -> dict[str, MoveReport]:
        try:
            answered = await self._actions.move_orders(store, order_ids, target.id)
        except OrderDeskError as exc:
            if not may_have_written(exc):
                await audit_mutation(
                    self._audit, self._clock, store=store, tool=TOOL, order_id=None, outcome="error",
                    error=str(exc), resource=f"orders:{','.join(order_ids)}",
                )  # fmt: skip
                raise
            reports = {r.order_id: r for r in await self._reconcile(store, order_ids, target)}
        else:
            reports = {r.order_id: r for r in answered}
            unconfirmed = [i for i in order_ids if not (i in reports and reports[i].moved)]
            if unconfirmed:
                reports |= await self._arrived(store, unconfirmed, target, reports)
        finally:
            for order_id in order_ids:
                await self._invalidations.after_write(store, order_id)
        return reports

    async def _arrived(
        self, store: StoreRef, order_ids: list[str], target: Folder, reports: dict[str, MoveReport]
    ) -> dict[str, MoveReport]:
        """Orders OrderDesk did not report as moved, read again: one found in the folder moved.

        A success is read from its answer's wording, of which one sample is documented ("Order
        Moved to Prepared Folder"); worded otherwise, a move that ran (and fired the folder's
        rules) was reported to the agent as failed. One read per such order, only then; a read
        that fails leaves OrderDesk's own report on that order as it was.
        """
        found: dict[str, MoveReport] = {}
        for order_id, order in (await self._fetch_each(store, order_ids)).items():
            if isinstance(order, Order) and order.view.folder_id == target.id:
                said = reports.get(order_id)
                found[order_id] = MoveReport(
                    order_id=order_id,
                    moved=True,
                    message=said.message if said is not None else "Order Moved",
                    original_folder_id=said.original_folder_id if said is not None else None,
                )
        return found

    async def _reconcile(
        self, store: StoreRef, order_ids: list[str], target: Folder
    ) -> tuple[MoveReport, ...]:
        """After a lost answer: where each order is now (never a second move)."""
        reports = []
        for order_id in order_ids:
            order = await self._gateway.fetch(store, order_id)
            arrived = order.view.folder_id == target.id
            message = (
                "Order Moved" if arrived else "OrderDesk did not confirm the move and the order is not there"
            )
            reports.append(MoveReport(order_id=order_id, moved=arrived, message=message))
        return tuple(reports)

    async def _audit_one(
        self, store: StoreRef, order_id: str, before: int | None, target: Folder, report: MoveReport | None
    ) -> None:
        ok = report is not None and report.moved
        await audit_mutation(
            self._audit, self._clock, store=store, tool=TOOL, order_id=order_id,
            outcome="ok" if ok else "error",
            changes=(Change(field="folder_id", before=before, after=target.id),) if ok else (),
            error=None if ok else (_NOT_REPORTED if report is None else _refusal(report.message)),
        )  # fmt: skip


def _refusal(message: str) -> str:
    return f"OrderDesk did not move it: {safe_upstream_text(message)}"
