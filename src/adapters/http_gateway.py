"""HttpOrderGateway: OrderDesk's REST API v2, one port method per endpoint.

The requests go through :class:`~orderdesk_mcp.adapters._orderdesk_http.OrderDeskHttp` (the
session, credentials, answer checks and size cap); this module turns each answer into domain
objects with :mod:`~orderdesk_mcp.adapters._orderdesk_wire` and ``_reach_wire``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orderdesk_mcp.adapters._orderdesk_http import USER_AGENT, OrderDeskHttp
from orderdesk_mcp.adapters._orderdesk_wire import (
    expect_order,
    folders_of_store,
    normalize_order,
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
from orderdesk_mcp.domain.errors import UpstreamRejected, UpstreamUnavailable
from orderdesk_mcp.domain.folders import Folder
from orderdesk_mcp.domain.inventory import InventoryItem, InventoryPage, InventoryQuery
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.pagination import OrderPage, OrderQuery
from orderdesk_mcp.domain.reach_results import MoveReport
from orderdesk_mcp.domain.shipment import NewShipment, Shipment

__all__ = ["USER_AGENT", "HttpOrderGateway"]


class HttpOrderGateway(OrderDeskHttp):
    """The order, folder, action, shipment and inventory ports on OrderDesk's REST API.

    Built, entered and left as :class:`OrderDeskHttp` (base URL, credentials, limiter, timeouts).
    """

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        body = await self.request(store, "GET", f"/orders/{order_id}", order_id=order_id)
        return Order.from_document(expect_order(body.get("order"), order_id))

    async def list_page(self, store: StoreRef, query: OrderQuery) -> OrderPage:
        body = await self.request(store, "GET", "/orders", params=query_params(query))
        orders = body.get("orders")
        if not isinstance(orders, list):
            raise UpstreamUnavailable("the answer had no list of orders in it")
        raw_total = body.get("total_records", len(orders))
        try:
            total = int(raw_total)
        except (TypeError, ValueError):
            raise UpstreamUnavailable("the answer's total_records is not a number") from None
        if total < 0 or (total > query.offset + len(orders) and not orders):
            raise UpstreamUnavailable("the answer's total_records does not match its orders")
        # Returned orders exist, so the total is at least where they end; an empty page is past the
        # end and keeps OrderDesk's count (not the offset asked for), as inventory pages do.
        return OrderPage(
            orders=tuple(Order.from_document(normalize_order(o)) for o in orders),
            total_count=max(total, query.offset + len(orders)) if orders else total,
            limit=query.limit,
            offset=query.offset,
        )

    async def create(self, store: StoreRef, doc: Mapping[str, Any]) -> Order:
        body = await self.request(store, "POST", "/orders", body=doc, creates=True)
        return Order.from_document(normalize_order(body.get("order")))

    async def replace(self, store: StoreRef, order_id: str, doc: Mapping[str, Any]) -> Order:
        body = await self.request(store, "PUT", f"/orders/{order_id}", order_id=order_id, body=doc)
        return Order.from_document(expect_order(body.get("order"), order_id))

    async def delete(self, store: StoreRef, order_id: str) -> None:
        await self.request(store, "DELETE", f"/orders/{order_id}", order_id=order_id)

    async def check_connection(self, store: StoreRef) -> None:
        await self.request(store, "GET", "/test")

    async def folders(self, store: StoreRef) -> tuple[Folder, ...]:
        return folders_of_store(await self.request(store, "GET", "/store"))

    # -- order actions, shipments, inventory (ports order_actions, shipments, inventory) -------
    async def _post_once(
        self, store: StoreRef, path: str, body: Mapping[str, Any], *, order_id: str | None = None
    ) -> dict[str, Any]:
        """A POST that must not be repeated: a server error answering it may have been applied."""
        try:
            return await self.request(store, "POST", path, order_id=order_id, body=body)
        except UpstreamUnavailable as exc:
            raise maybe_applied(exc) from exc

    async def move_orders(
        self, store: StoreRef, order_ids: Sequence[str], folder_id: int
    ) -> tuple[MoveReport, ...]:
        return move_reports(await self._post_once(store, "/move-orders", move_body(order_ids, folder_id)))

    async def add_history_note(self, store: StoreRef, order_id: str, note: str) -> Order:
        path = f"/orders/{order_id}/order-history"
        body = await self._post_once(store, path, {"note": note, "source_name": "API"}, order_id=order_id)
        return Order.from_document(expect_order(body.get("order"), order_id))

    async def shipments(self, store: StoreRef, order_id: str) -> tuple[Shipment, ...]:
        return shipments_of(
            await self.request(store, "GET", f"/orders/{order_id}/shipments", order_id=order_id)
        )

    async def add_shipment(self, store: StoreRef, order_id: str, shipment: NewShipment) -> None:
        try:
            await self._post_once(store, f"/orders/{order_id}/shipments", shipment.body(), order_id=order_id)
        except UpstreamRejected as exc:
            raise map_rejection(exc, store, order_id=order_id) from exc

    async def delete_shipment(self, store: StoreRef, order_id: str, shipment_id: str) -> None:
        try:
            await self.request(store, "DELETE", f"/orders/{order_id}/shipments/{shipment_id}")
        except UpstreamRejected as exc:
            raise map_rejection(exc, store, order_id=order_id, shipment_id=shipment_id) from exc

    async def inventory_page(self, store: StoreRef, query: InventoryQuery) -> InventoryPage:
        body = await self.request(store, "GET", "/inventory-items", params=inventory_params(query))
        return inventory_page_of(body, query)

    async def fetch_item(self, store: StoreRef, item_id: str) -> InventoryItem:
        try:
            body = await self.request(store, "GET", f"/inventory-items/{item_id}")
        except UpstreamRejected as exc:
            raise map_rejection(exc, store, item_id=item_id) from exc
        return inventory_item_of(body, item_id)

    async def replace_item(self, store: StoreRef, item_id: str, doc: Mapping[str, Any]) -> None:
        try:
            await self.request(store, "PUT", f"/inventory-items/{item_id}", body=doc)
        except UpstreamRejected as exc:
            raise map_rejection(exc, store, item_id=item_id) from exc
