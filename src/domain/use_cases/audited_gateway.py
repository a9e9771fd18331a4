"""AuditedOrderGateway: an ``attempt`` record before every upstream write, its outcome after.

Wraps the (resilient) gateway the mutation use cases write through. Before ``create``,
``replace`` or ``delete`` is sent, an ``attempt`` record is appended (and on disk: the audit
log fsyncs); after the answer, a record with the same ``attempt_id`` says ``ok`` or ``error``.
A process that dies after the write landed but before the use case's own record therefore
still leaves a trace: an attempt with no outcome. If the attempt cannot be recorded, nothing
is sent. Reads pass straight through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import anyio

from orderdesk_mcp.domain.context import current_call
from orderdesk_mcp.domain.errors import OrderDeskError
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.pagination import OrderPage, OrderQuery
from orderdesk_mcp.domain.use_cases._audit import audit_attempt, audit_attempt_outcome
from orderdesk_mcp.ports.audit import AuditLog, FieldChange
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.gateway import OrderGateway

__all__ = ["AuditedOrderGateway"]

T = TypeVar("T")


def _tool(default: str) -> str:
    call = current_call()
    return call.tool if call is not None and call.tool else default


class AuditedOrderGateway:
    """An :class:`~orderdesk_mcp.ports.gateway.OrderGateway` that audits every write's attempt and outcome."""

    def __init__(self, *, inner: OrderGateway, audit: AuditLog, clock: Clock) -> None:
        self._inner = inner
        self._audit = audit
        self._clock = clock

    async def _write(
        self,
        store: StoreRef,
        tool: str,
        order_id: str | None,
        op: Callable[[], Awaitable[T]],
        *,
        changes: tuple[FieldChange, ...] = (),
        result_id: Callable[[T], str | None] = lambda _: None,
    ) -> T:
        tool = _tool(tool)
        attempt = await audit_attempt(
            self._audit, self._clock, store=store, tool=tool, order_id=order_id, changes=changes
        )
        try:
            result = await op()
        except BaseException as exc:
            error = str(exc) if isinstance(exc, OrderDeskError) else f"stopped: {type(exc).__name__}"
            with anyio.CancelScope(shield=True):
                await audit_attempt_outcome(
                    self._audit, self._clock, attempt, store=store, tool=tool, order_id=order_id, error=error
                )
            raise
        await audit_attempt_outcome(
            self._audit, self._clock, attempt, store=store, tool=tool, order_id=result_id(result) or order_id
        )
        return result

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        return await self._inner.fetch(store, order_id)

    async def list_page(self, store: StoreRef, query: OrderQuery) -> OrderPage:
        return await self._inner.list_page(store, query)

    async def create(self, store: StoreRef, doc: Mapping[str, Any]) -> Order:
        sent = (FieldChange(field="source_id", after=doc["source_id"]),) if doc.get("source_id") else ()
        return await self._write(
            store, "orders_create", None, lambda: self._inner.create(store, doc), changes=sent,
            result_id=lambda order: order.id,
        )  # fmt: skip

    async def replace(self, store: StoreRef, order_id: str, doc: Mapping[str, Any]) -> Order:
        return await self._write(
            store, "orders_update", order_id, lambda: self._inner.replace(store, order_id, doc)
        )

    async def delete(self, store: StoreRef, order_id: str) -> None:
        await self._write(store, "orders_delete", order_id, lambda: self._inner.delete(store, order_id))

    async def check_connection(self, store: StoreRef) -> None:
        await self._inner.check_connection(store)
