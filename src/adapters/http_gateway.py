"""HttpOrderGateway: OrderDesk's REST API v2 over one aiohttp session per process.

Credentials are fetched (and decrypted) per request from the credential store and set as
headers; they are never logged. Success needs HTTP 2xx *and* ``"status": "success"``;
everything else is mapped to the domain error tree by :mod:`orderdesk_mcp.adapters._orderdesk_wire`.
Bodies larger than ``max_response_bytes`` are refused without being read whole.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from orderdesk_mcp.adapters._orderdesk_wire import (
    Answer,
    check_answer,
    decode_body,
    expect_order,
    folders_of_store,
    normalize_order,
    query_params,
    retry_after_of,
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
from orderdesk_mcp.domain.context import current_call, record_upstream
from orderdesk_mcp.domain.errors import OutcomeUnknown, UpstreamRejected, UpstreamUnavailable
from orderdesk_mcp.domain.folders import Folder
from orderdesk_mcp.domain.inventory import InventoryItem, InventoryPage, InventoryQuery
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.pagination import OrderPage, OrderQuery
from orderdesk_mcp.domain.reach_results import MoveReport
from orderdesk_mcp.domain.shipment import NewShipment, Shipment
from orderdesk_mcp.ports.credentials import CredentialStore
from orderdesk_mcp.ports.rate_limiter import RateLimiter

__all__ = ["USER_AGENT", "HttpOrderGateway"]

if TYPE_CHECKING:  # imported by the first request: tools/list at start-up needs no HTTP client
    import aiohttp

log = logging.getLogger(__name__)
USER_AGENT = "orderdesk-mcp/0.1 (+https://github.com/orderdesk-mcp/orderdesk-mcp)"


async def _note_lost_answers(
    request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    """Record every sent request whose answer never came, including the one aiohttp re-sends by
    itself on a dropped keep-alive connection (otherwise invisible: a DELETE whose first answer
    was lost would read as "not found" when the silent re-send gets 404)."""
    import aiohttp

    try:
        return await handler(request)
    except aiohttp.ClientConnectorError:
        raise  # nothing was sent
    except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError):
        record_upstream(request.method, 0)
        raise


class HttpOrderGateway:
    def __init__(
        self,
        *,
        base_url: str,
        credentials: CredentialStore,
        limiter: RateLimiter | None = None,
        connect_timeout: float = 15.0,
        read_timeout: float = 60.0,
        max_response_bytes: int = 10_000_000,
        user_agent: str = USER_AGENT,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._credentials = credentials
        self._limiter = limiter
        self._timeouts = (connect_timeout, read_timeout)
        self._max_bytes = max_response_bytes
        self._user_agent = user_agent
        self._entered = False
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> HttpOrderGateway:
        # The session (and aiohttp itself, about 120 ms of imports and TLS contexts) waits for the
        # first request, so a server answers initialize and tools/list without it.
        self._entered = True
        return self

    def _open_session(self) -> aiohttp.ClientSession:
        import aiohttp

        connect, read = self._timeouts
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, connect=connect, sock_read=read),
            raise_for_status=False,
            middlewares=(_note_lost_answers,),
        )
        return self._session

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._entered = False
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(
        self,
        store: StoreRef,
        method: str,
        path: str,
        *,
        order_id: str | None = None,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        creates: bool = False,
    ) -> dict[str, Any]:
        if not self._entered:
            raise RuntimeError("HttpOrderGateway used outside its 'async with' block")
        import aiohttp

        session = self._session or self._open_session()
        api_key = await self._credentials.api_key(store)
        headers = {
            "ORDERDESK-STORE-ID": store.store_id,
            "ORDERDESK-API-KEY": api_key,
            "User-Agent": self._user_agent,
            "Accept": "application/json",
        }
        call = current_call()
        if call is not None:
            headers["X-Correlation-ID"] = call.correlation_id
        try:
            async with session.request(
                method, f"{self._base}{path}", params=params, json=body, headers=headers
            ) as response:
                record_upstream(method, response.status)
                if response.status >= 400:
                    log.warning("OrderDesk answered %d to %s %s", response.status, method, path)
                raw = await self._read_capped(response)
                answer = Answer(
                    status=response.status,
                    headers={k.lower(): v for k, v in response.headers.items()},
                    body=decode_body(raw),
                )
        except aiohttp.ClientConnectorError as exc:
            log.warning("%s %s failed: could not connect to OrderDesk", method, path)
            raise UpstreamUnavailable("could not connect") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else "connection lost"
            if not isinstance(exc, aiohttp.ClientOSError | aiohttp.ServerDisconnectedError):
                record_upstream(method, 0)  # those two were recorded by _note_lost_answers
            log.warning("%s %s failed: %s", method, path, type(exc).__name__)
            if creates:
                raise OutcomeUnknown("order creation", reason) from exc
            raise UpstreamUnavailable(reason, maybe_sent=True) from exc
        if self._limiter is not None:
            await self._observe(store, answer)
        try:
            return check_answer(answer, store=store, order_id=order_id, secrets=(api_key,))
        except UpstreamUnavailable as exc:
            if creates:  # a 5xx after the POST arrived: it may have been created
                raise OutcomeUnknown("order creation", exc.reason) from exc
            raise

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        declared = response.content_length
        if declared is not None and declared > self._max_bytes:
            raise UpstreamRejected(
                f"response of {declared} bytes is larger than the {self._max_bytes} byte limit"
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(65536):
            size += len(chunk)
            if size > self._max_bytes:
                raise UpstreamRejected(f"response larger than the {self._max_bytes} byte limit")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _observe(self, store: StoreRef, answer: Answer) -> None:
        assert self._limiter is not None
        tokens = answer.headers.get("x-tokens-remaining", "")
        retry_after = retry_after_of(answer.headers) if answer.status == 429 else None
        await self._limiter.observe(
            store, tokens_remaining=int(tokens) if tokens.isdigit() else None, retry_after=retry_after
        )

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        body = await self._request(store, "GET", f"/orders/{order_id}", order_id=order_id)
        return Order.from_document(expect_order(body.get("order"), order_id))

    async def list_page(self, store: StoreRef, query: OrderQuery) -> OrderPage:
        body = await self._request(store, "GET", "/orders", params=query_params(query))
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
        return OrderPage(
            orders=tuple(Order.from_document(normalize_order(o)) for o in orders),
            total_count=max(total, query.offset + len(orders)),
            limit=query.limit,
            offset=query.offset,
        )

    async def create(self, store: StoreRef, doc: Mapping[str, Any]) -> Order:
        body = await self._request(store, "POST", "/orders", body=doc, creates=True)
        return Order.from_document(normalize_order(body.get("order")))

    async def replace(self, store: StoreRef, order_id: str, doc: Mapping[str, Any]) -> Order:
        body = await self._request(store, "PUT", f"/orders/{order_id}", order_id=order_id, body=doc)
        return Order.from_document(expect_order(body.get("order"), order_id))

    async def delete(self, store: StoreRef, order_id: str) -> None:
        await self._request(store, "DELETE", f"/orders/{order_id}", order_id=order_id)

    async def check_connection(self, store: StoreRef) -> None:
        await self._request(store, "GET", "/test")

    async def folders(self, store: StoreRef) -> tuple[Folder, ...]:
        return folders_of_store(await self._request(store, "GET", "/store"))

    # -- order actions, shipments, inventory (ports order_actions, shipments, inventory) -------
    async def _post_once(
        self, store: StoreRef, path: str, body: Mapping[str, Any], *, order_id: str | None = None
    ) -> dict[str, Any]:
        """A POST that must not be repeated: a server error answering it may have been applied."""
        try:
            return await self._request(store, "POST", path, order_id=order_id, body=body)
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
            await self._request(store, "GET", f"/orders/{order_id}/shipments", order_id=order_id)
        )

    async def add_shipment(self, store: StoreRef, order_id: str, shipment: NewShipment) -> None:
        try:
            await self._post_once(store, f"/orders/{order_id}/shipments", shipment.body(), order_id=order_id)
        except UpstreamRejected as exc:
            raise map_rejection(exc, store, order_id=order_id) from exc

    async def delete_shipment(self, store: StoreRef, order_id: str, shipment_id: str) -> None:
        try:
            await self._request(store, "DELETE", f"/orders/{order_id}/shipments/{shipment_id}")
        except UpstreamRejected as exc:
            raise map_rejection(exc, store, order_id=order_id, shipment_id=shipment_id) from exc

    async def inventory_page(self, store: StoreRef, query: InventoryQuery) -> InventoryPage:
        body = await self._request(store, "GET", "/inventory-items", params=inventory_params(query))
        return inventory_page_of(body, query)

    async def fetch_item(self, store: StoreRef, item_id: str) -> InventoryItem:
        try:
            body = await self._request(store, "GET", f"/inventory-items/{item_id}")
        except UpstreamRejected as exc:
            raise map_rejection(exc, store, item_id=item_id) from exc
        return inventory_item_of(body, item_id)

    async def replace_item(self, store: StoreRef, item_id: str, doc: Mapping[str, Any]) -> None:
        try:
            await self._request(store, "PUT", f"/inventory-items/{item_id}", body=doc)
        except UpstreamRejected as exc:
            raise map_rejection(exc, store, item_id=item_id) from exc
