"""SimulatedOrderGateway: the OrderGateway port served in-process by the simulator (no HTTP).

It goes through the same business rules as the HTTP simulator and honours the fault
switches that make sense without a wire: concurrent writers, 409s, failures and 429s.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from adapters.simulator import SimError, SimulatorState
from domain.errors import (
    AuthenticationFailed,
    ConcurrentModification,
    OrderDeskError,
    OrderNotFound,
    RateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from domain.order import Order, StoreRef
from domain.pagination import OrderPage, OrderQuery

__all__ = ["SimulatedOrderGateway", "query_params"]


def query_params(query: OrderQuery) -> dict[str, str]:
    """OrderDesk's ``GET /orders`` parameters for ``query`` (shared with the HTTP gateway)."""
    params = {"limit": str(query.limit), "offset": str(query.offset)}
    if query.folder_id:
        params["folder_id"] = ",".join(str(f) for f in query.folder_id)
    for name in (
        "folder_name", "source_id", "email", "search_start_date", "search_end_date", "modified_start_date",
        "modified_end_date", "order_by", "order",
    ):  # fmt: skip
        value = getattr(query, name)
        if value is not None:
            params[name] = str(value)
    return params


class SimulatedOrderGateway:
    def __init__(self, state: SimulatorState) -> None:
        self._state = state

    async def __aenter__(self) -> SimulatedOrderGateway:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def _faults(self, path: str) -> None:
        fault = self._state.faults.take_http(path)
        if fault is None:
            return
        if fault.kind == "rate_limit":
            raise RateLimited("", fault.seconds)
        if fault.kind in {"fail", "drop", "huge"}:
            raise UpstreamUnavailable(f"HTTP {fault.status}" if fault.kind == "fail" else "connection lost")
        if fault.kind == "error_body":
            raise UpstreamRejected(fault.message)

    def _map(self, exc: SimError, store: StoreRef, order_id: str | None) -> OrderDeskError:
        if exc.status == 404 and order_id is not None:
            return OrderNotFound(order_id, store.store_id)
        if exc.status == 401:
            return AuthenticationFailed(store.store_id)
        if exc.status == 409 and order_id is not None:
            return ConcurrentModification(order_id)
        return UpstreamRejected(exc.message, status=exc.status)

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        self._faults(f"/orders/{order_id}")
        try:
            return Order.from_document(self._state.get_order(store.store_id, order_id))
        except SimError as exc:
            raise self._map(exc, store, order_id) from exc

    async def list_page(self, store: StoreRef, query: OrderQuery) -> OrderPage:
        self._faults("/orders")
        try:
            total, docs, limit, offset = self._state.list_orders(store.store_id, query_params(query))
        except SimError as exc:
            raise self._map(exc, store, None) from exc
        return OrderPage(
            orders=tuple(Order.from_document(d) for d in docs), total_count=total, limit=limit, offset=offset
        )

    async def create(self, store: StoreRef, doc: Mapping[str, Any]) -> Order:
        self._faults("/orders")
        try:
            return Order.from_document(self._state.create_order(store.store_id, doc))
        except SimError as exc:
            raise self._map(exc, store, None) from exc

    async def replace(self, store: StoreRef, order_id: str, doc: Mapping[str, Any]) -> Order:
        self._faults(f"/orders/{order_id}")
        try:
            return Order.from_document(self._state.replace_order(store.store_id, order_id, doc))
        except SimError as exc:
            raise self._map(exc, store, order_id) from exc

    async def delete(self, store: StoreRef, order_id: str) -> None:
        self._faults(f"/orders/{order_id}")
        try:
            self._state.delete_order(store.store_id, order_id)
        except SimError as exc:
            raise self._map(exc, store, order_id) from exc

    async def check_connection(self, store: StoreRef) -> None:
        if store.store_id not in self._state.stores:
            raise AuthenticationFailed(store.store_id)
