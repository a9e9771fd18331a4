"""The OrderDesk gateway port: the five order operations the core needs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.pagination import OrderPage, OrderQuery

__all__ = ["OrderGateway"]


class OrderGateway(Protocol):
    """OrderDesk's order API for one or more stores.

    Every method may also raise ``AuthenticationFailed``, ``CredentialsMissing``,
    ``RateLimited``, ``UpstreamUnavailable`` and ``UpstreamRejected``.
    """

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        """Return the full order. Raises: OrderNotFound."""
        ...

    async def list_page(self, store: StoreRef, query: OrderQuery) -> OrderPage:
        """Return one page of orders matching ``query`` (past the end: an empty page)."""
        ...

    async def create(self, store: StoreRef, doc: Mapping[str, Any]) -> Order:
        """Create an order from ``doc`` and return it as stored.

        Raises: OutcomeUnknown when the request may have reached OrderDesk but no answer came
        back (never re-sent blindly); UpstreamRejected for a refused body.
        """
        ...

    async def replace(self, store: StoreRef, order_id: str, doc: Mapping[str, Any]) -> Order:
        """PUT the full document (full replacement) and return the order as stored.

        Raises: OrderNotFound; UpdateConflict-worthy ``ConcurrentModification`` on an upstream 409.
        """
        ...

    async def delete(self, store: StoreRef, order_id: str) -> None:
        """Delete the order. Raises: OrderNotFound."""
        ...

    async def check_connection(self, store: StoreRef) -> None:
        """Call OrderDesk's ``/test``; return when the credentials work. Raises: AuthenticationFailed."""
        ...
