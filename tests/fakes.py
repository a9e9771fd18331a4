"""Fakes behind ports. Each is checked against its Protocol by mypy at the bottom."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import anyio

from orderdesk_mcp.domain.errors import OrderDeskError, OrderNotFound
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.pagination import OrderPage, OrderQuery
from orderdesk_mcp.ports.audit import AuditLog, AuditRecord
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.gateway import OrderGateway

__all__ = ["FakeAuditLog", "FakeClock", "FakeOrderGateway"]


class FakeClock:
    """Instant sleeps that advance time and are recorded in ``sleeps``."""

    def __init__(self, start: float = 1_000.0, wall: float = 1_767_225_600.0) -> None:
        self._now = start
        self._wall_offset = wall - start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self._now

    def time(self) -> float:
        return self._now + self._wall_offset

    def advance(self, seconds: float) -> None:
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self._now += max(0.0, seconds)
        await anyio.lowlevel.checkpoint()


class FakeOrderGateway:
    """Orders in a dict per store; records every write; failures can be queued per method."""

    def __init__(self, orders: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.docs: dict[str, dict[str, Any]] = {k: copy.deepcopy(dict(v)) for k, v in (orders or {}).items()}
        self.writes: list[tuple[str, str, dict[str, Any] | None]] = []
        self.failures: dict[str, list[OrderDeskError]] = {}
        self.calls: dict[str, int] = {}
        self._next_id = 900_000

    def fail_next(self, method: str, *errors: OrderDeskError) -> None:
        self.failures.setdefault(method, []).extend(errors)

    def _enter(self, method: str) -> None:
        self.calls[method] = self.calls.get(method, 0) + 1
        queued = self.failures.get(method)
        if queued:
            raise queued.pop(0)

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        self._enter("fetch")
        if order_id not in self.docs:
            raise OrderNotFound(order_id, store.store_id)
        return Order.from_document(copy.deepcopy(self.docs[order_id]))

    async def list_page(self, store: StoreRef, query: OrderQuery) -> OrderPage:
        self._enter("list_page")
        docs = sorted(self.docs.values(), key=lambda d: int(d["id"]))
        if query.folder_id:
            docs = [d for d in docs if d.get("folder_id") in query.folder_id]
        if query.source_id is not None:
            docs = [d for d in docs if d.get("source_id") == query.source_id]
        window = docs[query.offset : query.offset + query.limit]
        return OrderPage(
            orders=tuple(Order.from_document(copy.deepcopy(d)) for d in window),
            total_count=len(docs),
            limit=query.limit,
            offset=query.offset,
        )

    async def create(self, store: StoreRef, doc: Mapping[str, Any]) -> Order:
        self._enter("create")
        self._next_id += 1
        stored = copy.deepcopy(dict(doc)) | {"id": str(self._next_id)}
        stored.setdefault("source_id", stored["id"])
        self.docs[stored["id"]] = stored
        self.writes.append(("create", stored["id"], copy.deepcopy(stored)))
        return Order.from_document(copy.deepcopy(stored))

    async def replace(self, store: StoreRef, order_id: str, doc: Mapping[str, Any]) -> Order:
        self._enter("replace")
        if order_id not in self.docs:
            raise OrderNotFound(order_id, store.store_id)
        stored = copy.deepcopy(dict(doc)) | {"id": order_id}
        self.docs[order_id] = stored
        self.writes.append(("replace", order_id, copy.deepcopy(stored)))
        return Order.from_document(copy.deepcopy(stored))

    async def delete(self, store: StoreRef, order_id: str) -> None:
        self._enter("delete")
        if order_id not in self.docs:
            raise OrderNotFound(order_id, store.store_id)
        del self.docs[order_id]
        self.writes.append(("delete", order_id, None))

    async def check_connection(self, store: StoreRef) -> None:
        self._enter("check_connection")


class FakeAuditLog:
    def __init__(self) -> None:
        self.records: list[AuditRecord] = []

    async def append(self, record: AuditRecord) -> None:
        self.records.append(record)


_gateway: OrderGateway = FakeOrderGateway()
_clock: Clock = FakeClock()
_audit: AuditLog = FakeAuditLog()
