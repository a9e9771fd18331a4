"""SimulatedOrderGateway: the OrderGateway port served in-process by the simulator (no HTTP).

It runs the simulator's business rules directly and turns every error answer into a domain
error through the same status mapping as the HTTP client (``check_answer``), so use-case tests
behave alike on both. Fault switches that make sense without a wire are honoured:
``change_after_read``, ``conflict_next_put``, ``fail_next``, ``rate_limit_next``,
``error_body_next`` and ``drop_next`` (narrowed by path and method as over HTTP). ``slow_next``
and ``huge_body_next`` are HTTP-only and stay queued. The real token bucket is not applied
in-process (``state.requests`` stays empty).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from orderdesk_mcp.adapters._lifespan import NoOpLifespan
from orderdesk_mcp.adapters._orderdesk_wire import (
    Answer,
    check_answer,
    decode_body,
    folders_of_store,
    query_params,
)
from orderdesk_mcp.adapters._reach_wire import (
    inventory_item_of,
    inventory_page_of,
    inventory_params,
    map_rejection,
    maybe_applied,
    move_body,
    move_reports,
    shipments_of,
)
from orderdesk_mcp.adapters.simulator import SimError, SimulatorState
from orderdesk_mcp.adapters.simulator._faults import HttpFault
from orderdesk_mcp.domain.context import record_upstream
from orderdesk_mcp.domain.errors import (
    AuthenticationFailed,
    OutcomeUnknown,
    UpstreamRejected,
    UpstreamUnavailable,
)
from orderdesk_mcp.domain.folders import Folder
from orderdesk_mcp.domain.inventory import InventoryItem, InventoryPage, InventoryQuery
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.pagination import OrderPage, OrderQuery
from orderdesk_mcp.domain.reach_results import MoveReport
from orderdesk_mcp.domain.shipment import NewShipment, Shipment

__all__ = ["SimulatedOrderGateway"]

_T = TypeVar("_T")
_IN_PROCESS = ("fail", "rate_limit", "error_body", "drop")
_SERVER_ERROR = b'{"status":"error","message":"Server error"}'


def _fault_answer(fault: HttpFault) -> Answer:
    if fault.kind == "rate_limit":
        retry = str(max(1, math.ceil(fault.seconds)))
        return Answer(status=429, headers={"x-retry-after": retry}, body={"status": "error"})
    if fault.kind == "error_body":
        return Answer(status=200, headers={}, body={"status": "error", "message": fault.message})
    headers = {k.lower(): v for k, v in fault.headers.items()}
    return Answer(status=fault.status, headers=headers, body=decode_body(fault.body or _SERVER_ERROR))


class SimulatedOrderGateway(NoOpLifespan):
    """OrderGateway on a :class:`SimulatorState` in this process; an async context manager (no-op)."""

    def __init__(self, state: SimulatorState) -> None:
        self._state = state

    def _call(
        self,
        store: StoreRef,
        path: str,
        operation: Callable[[], _T],
        *,
        order_id: str | None = None,
        creates: bool = False,
        method: str = "GET",
    ) -> _T:
        """Run ``operation`` as OrderDesk would answer it, raising the domain error of any failure."""
        try:
            return self._answer(store, path, operation, order_id=order_id, method=method)
        except UpstreamUnavailable as exc:
            if creates:  # as over HTTP: a create that may have landed is never reported as failed
                raise OutcomeUnknown("order creation", exc.reason) from exc
            if method == "POST":  # as over HTTP: a server error may have applied a non-repeatable POST
                raise maybe_applied(exc) from exc
            raise

    def _answer(
        self, store: StoreRef, path: str, operation: Callable[[], _T], *, order_id: str | None, method: str
    ) -> _T:
        fault = self._state.faults.take_http(path, kinds=_IN_PROCESS, method=method)
        if fault is not None:  # counted like HTTP requests (status 0: the answer was lost)
            record_upstream(method, 0 if fault.kind == "drop" else _fault_answer(fault).status)
        if fault is not None and fault.kind == "drop":
            if fault.after_processing:
                with contextlib.suppress(SimError):  # the answer is lost either way
                    operation()
            raise UpstreamUnavailable("connection lost", maybe_sent=True)
        if fault is not None:
            check_answer(_fault_answer(fault), store=store, order_id=order_id)
        try:
            result = operation()
        except SimError as exc:
            record_upstream(method, exc.status)
            body = {"status": "error", "message": exc.message}
            check_answer(Answer(status=exc.status, headers={}, body=body), store=store, order_id=order_id)
            raise AssertionError("check_answer accepted an error answer") from exc  # pragma: no cover
        record_upstream(method, 200)
        return result

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        """Return the full order. Raises: OrderNotFound (and the port's common errors)."""
        doc = self._call(
            store, f"/orders/{order_id}", lambda: self._state.get_order(store.store_id, order_id),
            order_id=order_id, method="GET",
        )  # fmt: skip
        return Order.from_document(doc)

    async def list_page(self, store: StoreRef, query: OrderQuery) -> OrderPage:
        """One page of orders; past the end an empty page. Raises: UpstreamRejected for bad filters."""
        params = query_params(query)
        total, docs, limit, offset = self._call(
            store, "/orders", lambda: self._state.list_orders(store.store_id, params), method="GET"
        )
        orders = tuple(Order.from_document(d) for d in docs)
        return OrderPage(orders=orders, total_count=total, limit=limit, offset=offset)

    async def create(self, store: StoreRef, doc: Mapping[str, Any]) -> Order:
        """Create and return the order. Raises: UpstreamRejected (validation, duplicate); OutcomeUnknown."""
        created = self._call(
            store,
            "/orders",
            lambda: self._state.create_order(store.store_id, doc),
            creates=True,
            method="POST",
        )
        return Order.from_document(created)

    async def replace(self, store: StoreRef, order_id: str, doc: Mapping[str, Any]) -> Order:
        """Full replacement. Raises: OrderNotFound; ConcurrentModification on a 409; UpstreamRejected."""
        saved = self._call(
            store, f"/orders/{order_id}", lambda: self._state.replace_order(store.store_id, order_id, doc),
            order_id=order_id, method="PUT",
        )  # fmt: skip
        return Order.from_document(saved)

    async def delete(self, store: StoreRef, order_id: str) -> None:
        """Delete the order. Raises: OrderNotFound."""
        self._call(
            store, f"/orders/{order_id}", lambda: self._state.delete_order(store.store_id, order_id),
            order_id=order_id, method="DELETE",
        )  # fmt: skip

    async def check_connection(self, store: StoreRef) -> None:
        """Return when the simulator has the store. Raises: AuthenticationFailed."""
        if store.store_id not in self._state.stores:
            raise AuthenticationFailed(store.store_id)

    async def folders(self, store: StoreRef) -> tuple[Folder, ...]:
        """The store's folders from its settings (``GET /store``)."""
        info = self._call(store, "/store", lambda: self._state.store_info(store.store_id), method="GET")
        return folders_of_store({"store": info})

    # -- order actions, shipments, inventory (ports order_actions, shipments, inventory) -------
    # Each answer is built as the HTTP app builds it, then read by the same wire functions.
    async def move_orders(
        self, store: StoreRef, order_ids: Sequence[str], folder_id: int
    ) -> tuple[MoveReport, ...]:
        body = move_body(order_ids, folder_id)
        _, results = self._call(
            store, "/move-orders", lambda: self._state.move_orders(store.store_id, body), method="POST"
        )
        return move_reports({"results": results})

    async def add_history_note(self, store: StoreRef, order_id: str, note: str) -> Order:
        body = {"note": note, "source_name": "API"}
        order = self._call(
            store, f"/orders/{order_id}/order-history",
            lambda: self._state.add_history(store.store_id, order_id, body), order_id=order_id, method="POST",
        )  # fmt: skip
        return Order.from_document(order)

    async def shipments(self, store: StoreRef, order_id: str) -> tuple[Shipment, ...]:
        found = self._call(
            store, f"/orders/{order_id}/shipments",
            lambda: self._state.list_shipments(store.store_id, order_id), order_id=order_id, method="GET",
        )  # fmt: skip
        return shipments_of({"shipments": found})

    async def add_shipment(self, store: StoreRef, order_id: str, shipment: NewShipment) -> None:
        body = shipment.body()
        try:
            self._call(
                store, f"/orders/{order_id}/shipments",
                lambda: self._state.add_shipment(store.store_id, order_id, body), order_id=order_id,
                method="POST",
            )  # fmt: skip
        except UpstreamRejected as exc:
            raise map_rejection(exc, store, order_id=order_id) from exc

    async def delete_shipment(self, store: StoreRef, order_id: str, shipment_id: str) -> None:
        try:
            self._call(
                store, f"/orders/{order_id}/shipments/{shipment_id}",
                lambda: self._state.delete_shipment(store.store_id, order_id, shipment_id), method="DELETE",
            )  # fmt: skip
        except UpstreamRejected as exc:
            raise map_rejection(exc, store, order_id=order_id, shipment_id=shipment_id) from exc

    async def inventory_page(self, store: StoreRef, query: InventoryQuery) -> InventoryPage:
        params = inventory_params(query)
        total, items = self._call(
            store,
            "/inventory-items",
            lambda: self._state.list_inventory(store.store_id, params),
            method="GET",
        )
        return inventory_page_of({"total_records": str(total), "inventory_items": items}, query)

    async def fetch_item(self, store: StoreRef, item_id: str) -> InventoryItem:
        try:
            item = self._call(
                store, f"/inventory-items/{item_id}",
                lambda: self._state.get_inventory_item(store.store_id, item_id), method="GET",
            )  # fmt: skip
        except UpstreamRejected as exc:
            raise map_rejection(exc, store, item_id=item_id) from exc
        return inventory_item_of({"inventory_item": item}, item_id)

    async def replace_item(self, store: StoreRef, item_id: str, doc: Mapping[str, Any]) -> None:
        try:
            self._call(
                store, f"/inventory-items/{item_id}",
                lambda: self._state.replace_inventory_item(store.store_id, item_id, doc), method="PUT",
            )  # fmt: skip
        except UpstreamRejected as exc:
            raise map_rejection(exc, store, item_id=item_id) from exc
