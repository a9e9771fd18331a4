"""AuditedOrderGateway: an ``attempt`` record before every upstream write, its outcome after.

Wraps the (resilient) gateway the mutation use cases write through. Before ``create``,
``replace`` or ``delete`` is sent, an ``attempt`` record is appended (and on disk: the audit
log fsyncs); after the answer, a record with the same ``attempt_id`` says ``ok`` or ``error``.
A process that dies after the write landed but before the use case's own record therefore
still leaves a trace: an attempt with no outcome. If the attempt cannot be recorded, nothing
is sent. Reads pass straight through. The bracket itself is
:class:`~orderdesk_mcp.domain.use_cases.audited_write.AuditedWrite`, shared with the audited
order-actions, shipment and inventory ports (:mod:`~orderdesk_mcp.domain.use_cases.audited_ports`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.pagination import OrderPage, OrderQuery
from orderdesk_mcp.domain.use_cases.audited_write import AuditedWrite
from orderdesk_mcp.ports.audit import AuditLog, FieldChange
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.gateway import OrderGateway

__all__ = ["AuditedOrderGateway"]


class AuditedOrderGateway:
    """An :class:`~orderdesk_mcp.ports.gateway.OrderGateway` that audits every write's attempt and outcome."""

    def __init__(self, *, inner: OrderGateway, audit: AuditLog, clock: Clock) -> None:
        self._inner = inner
        self._write = AuditedWrite(audit=audit, clock=clock)

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        return await self._inner.fetch(store, order_id)

    async def list_page(self, store: StoreRef, query: OrderQuery) -> OrderPage:
        return await self._inner.list_page(store, query)

    async def create(self, store: StoreRef, doc: Mapping[str, Any]) -> Order:
        sent = (FieldChange(field="source_id", after=doc["source_id"]),) if doc.get("source_id") else ()
        return await self._write(
            store, "orders_create", lambda: self._inner.create(store, doc), changes=sent,
            result_id=lambda order: order.id,
        )  # fmt: skip

    async def replace(self, store: StoreRef, order_id: str, doc: Mapping[str, Any]) -> Order:
        return await self._write(
            store, "orders_update", lambda: self._inner.replace(store, order_id, doc), order_id=order_id
        )

    async def delete(self, store: StoreRef, order_id: str) -> None:
        await self._write(
            store, "orders_delete", lambda: self._inner.delete(store, order_id), order_id=order_id
        )

    async def check_connection(self, store: StoreRef) -> None:
        await self._inner.check_connection(store)
